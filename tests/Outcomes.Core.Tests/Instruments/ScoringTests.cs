using Outcomes.Core.Instruments;
using Outcomes.Core.Validation;

namespace Outcomes.Core.Tests.Instruments;

public class ScoringTests
{
    private static InstrumentDefinition Shipped(string code) => InstrumentJson.Shipped.Single(i => i.Code == code);

    private static ItemAnswer[] Values(string prefix, params int?[] values) =>
        [.. values.Select((v, i) => v is null ? null! : new ItemAnswer($"{prefix}_{i + 1:D2}", v)).Where(a => a is not null)];

    [Fact]
    public void Ndi_NineItemsAnswered_PercentOfAnsweredMaximum()
    {
        // Nine items answered, summing to 16: 16 / (5 x 9) x 100 = 35.555... -> 35.56
        var answers = Values("ndi", 2, 3, 1, 2, 0, 2, 3, 1, 2, null);
        var errors = new ValidationErrors();

        var scored = Scoring.Score(Shipped("ndi"), answers, errors);

        Assert.True(errors.IsEmpty);
        Assert.Equal(35.56m, scored!.Score);
        Assert.Equal(16m, scored.RawSum);
        Assert.Equal(9, scored.AnsweredItems);
    }

    [Fact]
    public void Ndi_AllItemsAnswered_IsSumTimesTwo()
    {
        // 20 of 50 points = 40%
        var scored = Scoring.Score(Shipped("ndi"), Values("ndi", 2, 2, 2, 2, 2, 2, 2, 2, 2, 2), new ValidationErrors());

        Assert.Equal(40m, scored!.Score);
    }

    [Fact]
    public void Ndi_ThreeItemsMissing_IsRejectedNotScored()
    {
        var errors = new ValidationErrors();

        var scored = Scoring.Score(Shipped("ndi"), Values("ndi", 1, 1, 1, 1, 1, 1, 1), errors);

        Assert.Null(scored);
        Assert.Contains("at least 8 of its 10", errors.ToDictionary()["answers"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Odi_AllSections_PercentOfFifty()
    {
        // 18 of 50 = 36%
        var scored = Scoring.Score(Shipped("odi"), Values("odi", 1, 2, 3, 2, 1, 2, 3, 2, 1, 1), new ValidationErrors());

        Assert.Equal(36m, scored!.Score);
        Assert.Equal("2.1a", Shipped("odi").Version);
    }

    [Fact]
    public void Hit6_MapsAnswersToItemValues()
    {
        // never 6 + rarely 8 + sometimes 10 + very often 11 + always 13 + always 13 = 61
        string[] options = ["never", "rarely", "sometimes", "very_often", "always", "always"];
        var answers = options.Select((o, i) => new ItemAnswer($"hit6_{i + 1}", Option: o)).ToArray();

        var scored = Scoring.Score(Shipped("hit6"), answers, new ValidationErrors());

        Assert.Equal(61m, scored!.Score);
    }

    [Fact]
    public void Hit6_Bounds_AreThirtySixToSeventyEight()
    {
        var allNever = Enumerable.Range(1, 6).Select(i => new ItemAnswer($"hit6_{i}", Option: "never")).ToArray();
        var allAlways = Enumerable.Range(1, 6).Select(i => new ItemAnswer($"hit6_{i}", Option: "always")).ToArray();

        Assert.Equal(36m, Scoring.Score(Shipped("hit6"), allNever, new ValidationErrors())!.Score);
        Assert.Equal(78m, Scoring.Score(Shipped("hit6"), allAlways, new ValidationErrors())!.Score);
    }

    [Fact]
    public void Hit6_MissingItem_IsRejected()
    {
        var errors = new ValidationErrors();
        var five = Enumerable.Range(1, 5).Select(i => new ItemAnswer($"hit6_{i}", Option: "never")).ToArray();

        Assert.Null(Scoring.Score(Shipped("hit6"), five, errors));
        Assert.Contains("every one of its 6 items", errors.ToDictionary()["answers"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Pgic_OptionScoresItsValue()
    {
        var scored = Scoring.Score(Shipped("pgic"), [new ItemAnswer("change", Option: "much_improved")], new ValidationErrors());

        Assert.Equal(2m, scored!.Score);
    }

    [Fact]
    public void InvalidAnswers_AreEachNamedAndNothingIsScored()
    {
        var errors = new ValidationErrors();
        ItemAnswer?[] answers =
        [
            new("ndi_01", 6),              // out of range
            new("ndi_02", Option: "bad"),  // option on a range item
            new("ndi_99", 1),              // unknown item
            new("ndi_03", 1),
            new("ndi_03", 2),              // answered twice
            new("ndi_04"),                 // no value
            null,
        ];

        var scored = Scoring.Score(Shipped("ndi"), answers, errors);

        Assert.Null(scored);
        Assert.Equal(
            ["answers[0].value", "answers[1].option", "answers[2].item", "answers[4].item", "answers[5].value", "answers[6]"],
            errors.ToDictionary().Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CategoricalItem_RejectsNumbersAndUnknownOptions()
    {
        var errors = new ValidationErrors();

        Scoring.Score(Shipped("hit6"), [new ItemAnswer("hit6_1", 6), new ItemAnswer("hit6_2", Option: "often")], errors);

        Assert.Equal(["answers[0].value", "answers[1].option"], errors.ToDictionary().Keys.Order(StringComparer.Ordinal));
    }
}

public class ShippedInstrumentTests
{
    [Fact]
    public void Shipped_AreTheSevenInstrumentsOfTheDomain() =>
        Assert.Equal(
            ["headache_days", "hit6", "ndi", "odi", "pain_nrs", "pain_vas", "pgic"],
            InstrumentJson.Shipped.Select(i => i.Code).Order(StringComparer.Ordinal));

    [Fact]
    public void Shipped_AllPassDefinitionValidation() =>
        Assert.All(InstrumentJson.Shipped, d => Assert.True(Scoring.ValidateDefinition(d).IsEmpty, d.Code));

    [Fact]
    public void Shipped_CarryThePublishedLoincCodes()
    {
        var ndi = InstrumentJson.Shipped.Single(i => i.Code == "ndi");
        var odi = InstrumentJson.Shipped.Single(i => i.Code == "odi");
        var nrs = InstrumentJson.Shipped.Single(i => i.Code == "pain_nrs");

        Assert.Equal("82226-2", ndi.LoincPanel);
        Assert.Equal("82237-9", ndi.LoincScore);
        Assert.Equal("82227-0", ndi.Items[0].Loinc);
        Assert.Equal("82236-1", ndi.Items[9].Loinc);
        Assert.Equal(("97908-8", "97909-6"), (odi.LoincPanel, odi.LoincScore));
        Assert.Equal("72514-3", nrs.LoincScore);
    }

    [Fact]
    public void Shipped_LoincCodesHaveValidCheckDigits()
    {
        var codes = InstrumentJson.Shipped
            .SelectMany(d => d.Items.Select(i => i.Loinc).Append(d.LoincPanel).Append(d.LoincScore))
            .OfType<string>()
            .ToList();

        Assert.NotEmpty(codes);
        Assert.All(codes, c => Assert.True(LoincCheckDigitIsValid(c), c));
    }

    /// <summary>LOINC's mod-10 check digit (the Luhn algorithm over the part before the hyphen).</summary>
    private static bool LoincCheckDigitIsValid(string code)
    {
        var parts = code.Split('-');
        var sum = 0;
        var digits = parts[0].Reverse().Select(c => c - '0').ToArray();
        for (var i = 0; i < digits.Length; i++)
        {
            var d = i % 2 == 0 ? digits[i] * 2 : digits[i];
            sum += d / 10 + d % 10;
        }
        return (10 - sum % 10) % 10 == int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Definition_RoundTripsThroughItsStoredJson()
    {
        var ndi = InstrumentJson.Shipped.Single(i => i.Code == "ndi");

        var back = InstrumentJson.Deserialize(InstrumentJson.Serialize(ndi));

        Assert.Equal(InstrumentJson.Serialize(ndi), InstrumentJson.Serialize(back));
        Assert.Equal(ScoringRule.PercentOfAnswered, back.Scoring);
        Assert.Equal(10, back.Items.Count);
    }

    [Fact]
    public void ValidateDefinition_NamesEachProblem()
    {
        var bad = new InstrumentDefinition("Bad Code", "", "x", [new InstrumentItem("a", 3, 1), new InstrumentItem("a", 0, 5)],
            ScoringRule.Sum, 5, Direction.HigherIsWorse, 10, 0);

        var errors = Scoring.ValidateDefinition(bad).ToDictionary();

        Assert.Equal(["code", "items[0]", "items[1].code", "minAnsweredItems", "scoreMax", "version"], errors.Keys.Order(StringComparer.Ordinal));
    }
}
