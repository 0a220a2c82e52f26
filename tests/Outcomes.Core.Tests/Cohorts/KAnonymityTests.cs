using Outcomes.Core.Cohorts;

namespace Outcomes.Core.Tests.Cohorts;

public sealed class KAnonymityTests
{
    private static (long Row, long Patient, QuasiIdentifiers Identifiers) Row(long patient, string site, string sex = "female", string period = "2025-Q1", string practitioner = "1") =>
        (patient, patient, new QuasiIdentifiers(site, practitioner, sex, "40-49", "lowBackPain", period));

    [Fact]
    public void GroupsOfKOrMore_AreLeftAsTheyAre()
    {
        var rows = Enumerable.Range(1, 6).Select(i => Row(i, "1")).ToList();

        var result = KAnonymity.Protect(rows, k: 3);

        Assert.Empty(result.Generalised);
        Assert.Equal(0, result.Suppressed);
        Assert.Equal(6, result.Kept.Count);
    }

    [Fact]
    public void SmallGroupsThatAWiderSiteJoins_AreGeneralised_NotSuppressed()
    {
        // Two sites of two patients each, k = 3: neither site is k-anonymous, both together are.
        var rows = new[] { Row(1, "1"), Row(2, "1"), Row(3, "2"), Row(4, "2") };

        var result = KAnonymity.Protect(rows, k: 3);

        Assert.Equal(["practitioner", "site"], result.Generalised);
        Assert.Equal(0, result.Suppressed);
        Assert.All(result.Kept, r => Assert.Equal(KAnonymity.All, r.Identifiers.Site));
        Assert.All(result.Kept, r => Assert.Equal("2025-Q1", r.Identifiers.Period));
    }

    [Fact]
    public void AnOutlierNoRungCanAbsorb_IsSuppressed_WithoutCostingEveryoneTheirDetail()
    {
        // Nine alike and one who differs by sex, which the ladder never generalises: 10% would stay suppressed on every
        // rung, over the 5% budget, so generalising buys nothing; the least generalised rung is kept.
        var rows = Enumerable.Range(1, 9).Select(i => Row(i, "1")).Append(Row(10, "1", sex: "male")).ToList();

        var result = KAnonymity.Protect(rows, k: 3);

        Assert.Empty(result.Generalised);
        Assert.Equal(1, result.Suppressed);
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), result.Kept.Select(r => r.Row));
        Assert.All(result.Kept, r => Assert.Equal("2025-Q1", r.Identifiers.Period));
    }

    [Fact]
    public void WhenGeneralisingHelpsSomeButNotEnough_TheRungWithFewestSuppressedIsTaken()
    {
        // Quarters: four patients in each of 2025-Q1 and 2025-Q2 (k = 5, so both small); one year holds all eight.
        // One more patient, male, stays alone whatever happens: 1 of 9 (11%) is over budget, yet "quarter->year"
        // brings the suppressed from 9 to 1, and nothing after it does better.
        var rows = Enumerable.Range(1, 4).Select(i => Row(i, "1", period: "2025-Q1"))
            .Concat(Enumerable.Range(5, 4).Select(i => Row(i, "1", period: "2025-Q2")))
            .Append(Row(9, "1", sex: "male"))
            .ToList();

        var result = KAnonymity.Protect(rows, k: 5);

        Assert.Equal(["practitioner", "site", "quarter->year"], result.Generalised);
        Assert.Equal(1, result.Suppressed);
        Assert.All(result.Kept, r => Assert.Equal("2025", r.Identifiers.Period));
    }
}
