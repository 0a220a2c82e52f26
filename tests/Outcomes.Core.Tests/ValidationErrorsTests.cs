using Outcomes.Core.Validation;

namespace Outcomes.Core.Tests;

public class ValidationErrorsTests
{
    [Fact]
    public void Required_TreatsNullAndBlankAsMissing()
    {
        var errors = new ValidationErrors();

        Assert.False(errors.Required<string>(null, "a"));
        Assert.False(errors.Required("  ", "b"));
        Assert.True(errors.Required("x", "c"));
        Assert.True(errors.Required<int?>(0, "d"));

        Assert.Equal(["a", "b"], errors.ToDictionary().Keys.Order());
    }

    [Fact]
    public void Check_CollectsEveryMessagePerField()
    {
        var errors = new ValidationErrors();
        errors.Check(false, "units", "must be positive");
        errors.Check(false, "units", "must have at most two decimal places");
        errors.Check(true, "side", "never added");

        var dictionary = errors.ToDictionary();
        Assert.False(errors.IsEmpty);
        Assert.Equal(["must be positive", "must have at most two decimal places"], dictionary["units"]);
        Assert.False(dictionary.ContainsKey("side"));
    }
}
