using Outcomes.Core.Clinic;

namespace Outcomes.Core.Tests.Clinic;

public class SessionRulesTests
{
    [Fact]
    public void TotalUnits_AddsTheUnitsOfEverySite()
    {
        // 20 + 20 + 12.5 + 7.5 = 60
        InjectionSite[] sites =
        [
            new("upper_trapezius", BodySide.Left, 20m),
            new("upper_trapezius", BodySide.Right, 20m),
            new("levator_scapulae", BodySide.Left, 12.5m),
            new("splenius_capitis", BodySide.Right, 7.5m),
        ];

        Assert.Equal(60m, SessionRules.TotalUnits(sites));
    }

    [Theory]
    [InlineData("2.5", true)]
    [InlineData("2.55", true)]
    [InlineData("2.555", false)]
    [InlineData("100", true)]
    public void HasValidPrecision_AllowsAtMostTwoDecimals(string units, bool expected) =>
        Assert.Equal(expected, SessionRules.HasValidPrecision(decimal.Parse(units, System.Globalization.CultureInfo.InvariantCulture)));
}

public class MusclesTests
{
    [Fact]
    public void Catalogue_CodesAreUniqueSnakeCase()
    {
        var codes = Muscles.All.Select(m => m.Code).ToList();

        Assert.Equal(codes.Count, codes.Distinct(StringComparer.Ordinal).Count());
        Assert.All(codes, c => Assert.Matches("^[a-z][a-z_]*[a-z]$", c));
    }

    [Theory]
    [InlineData("upper_trapezius", true)]
    [InlineData("quadratus_lumborum", true)]
    [InlineData("Upper_Trapezius", false)]
    [InlineData("biceps_of_the_ear", false)]
    [InlineData(null, false)]
    public void IsKnown_MatchesExactCodesOnly(string? code, bool expected) => Assert.Equal(expected, Muscles.IsKnown(code));
}

public class PatientRulesTests
{
    [Theory]
    [InlineData(1899, false)]
    [InlineData(1900, true)]
    [InlineData(1985, true)]
    [InlineData(2026, true)]
    [InlineData(2027, false)]
    public void IsPlausibleBirthYear_BoundsByCenturyAndEnrolment(int year, bool expected) =>
        Assert.Equal(expected, PatientRules.IsPlausibleBirthYear(year, new DateOnly(2026, 3, 1)));
}

public class EnumCodeTests
{
    [Theory]
    [InlineData(Product.OnabotulinumtoxinA, "onabotulinumtoxinA")]
    [InlineData(Product.AbobotulinumtoxinA, "abobotulinumtoxinA")]
    [InlineData(Product.IncobotulinumtoxinA, "incobotulinumtoxinA")]
    public void Product_CodesAreTheInnNames(Product product, string code)
    {
        Assert.Equal(code, EnumCode<Product>.Of(product));
        Assert.Equal(product, EnumCode<Product>.Parse(code));
    }

    [Fact]
    public void Parse_UnknownCode_Throws() =>
        Assert.Throws<FormatException>(() => EnumCode<Condition>.Parse("lumbago"));

    [Fact]
    public void Condition_HasTheSixConditionsOfTheDomain() =>
        Assert.Equal(
            ["chronicMigraine", "chronicTensionTypeHeadache", "fibromyalgiaAssociatedSpasm", "lowBackPain", "myofascialPainSyndrome", "neckShoulderPain"],
            EnumCode<Condition>.All.Order(StringComparer.Ordinal));
}
