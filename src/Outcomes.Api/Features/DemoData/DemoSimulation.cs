using Outcomes.Core.Instruments;

namespace Outcomes.Api.Features.DemoData;

/// <summary>How a synthetic patient responds to injections.</summary>
/// <param name="BaselinePain">Average weekly pain before treatment (0–10).</param>
/// <param name="Effect">Share of pain relieved at the peak of a cycle: about 0.5 for responders, near 0 for non-responders.</param>
/// <param name="OnsetDays">Days until the full effect (relief starts within days).</param>
/// <param name="PeakWeeks">Weeks the full effect lasts before it wears off.</param>
/// <param name="WearOffWeeks">Weeks over which it then fades to nothing.</param>
public sealed record DemoResponse(double BaselinePain, double Effect, double OnsetDays, double PeakWeeks, double WearOffWeeks)
{
    /// <summary>
    /// About 45% responders (40–70% relief), 20% partial responders (15–30%), 35% non-responders
    /// (0–10%): a mix like the mixed published evidence, so cohort figures have something to show.
    /// </summary>
    public static DemoResponse Draw(Random random)
    {
        var kind = random.NextDouble();
        var effect = kind < 0.45 ? 0.40 + random.NextDouble() * 0.30
            : kind < 0.65 ? 0.15 + random.NextDouble() * 0.15
            : random.NextDouble() * 0.10;
        return new DemoResponse(
            BaselinePain: Math.Clamp(Normal(random, 6.5, 1.2), 3, 9.5),
            Effect: effect,
            OnsetDays: 2 + random.NextDouble() * 8,
            PeakWeeks: 6 + random.NextDouble() * 8,
            WearOffWeeks: 6 + random.NextDouble() * 8);
    }

    /// <summary>Share of the effect present <paramref name="days"/> after a session: ramps up, holds, fades.</summary>
    public double EffectAt(double days)
    {
        if (days < 0)
        {
            return 0;
        }
        var onset = Math.Min(1, days / OnsetDays);
        var fade = days <= PeakWeeks * 7 ? 1 : Math.Max(0, 1 - (days - PeakWeeks * 7) / (WearOffWeeks * 7));
        return onset * fade;
    }

    /// <summary>Expected pain <paramref name="daysSinceSession"/> days after the latest session (no session yet: baseline).</summary>
    public double PainAt(double? daysSinceSession) =>
        daysSinceSession is { } d ? BaselinePain * (1 - Effect * EffectAt(d)) : BaselinePain;

    public static double Normal(Random random, double mean, double sd)
    {
        // Box–Muller
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return mean + sd * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}

/// <summary>Questionnaire answers that follow a patient's pain, for the demo data.</summary>
public static class DemoAnswers
{
    /// <summary>Answers whose score tracks <paramref name="severity"/> (0 = none … 1 = worst) with some noise.</summary>
    public static IReadOnlyList<ItemAnswer> For(InstrumentDefinition instrument, double severity, Random random) =>
        [.. instrument.Items.Select(item =>
        {
            var s = Math.Clamp(severity + DemoResponse.Normal(random, 0, 0.12), 0, 1);
            if (item.IsCategorical)
            {
                var options = item.Options!;
                return new ItemAnswer(item.Code, Option: options[(int)Math.Round(s * (options.Count - 1))].Code);
            }
            return new ItemAnswer(item.Code, (int)Math.Round(item.Min!.Value + s * (item.Max!.Value - item.Min.Value)));
        })];

    /// <summary>PGIC from the relief since baseline: much or very much improved for clear responders.</summary>
    public static string Pgic(double relief) => relief switch
    {
        >= 0.5 => "very_much_improved",
        >= 0.3 => "much_improved",
        >= 0.1 => "minimally_improved",
        > -0.1 => "no_change",
        _ => "minimally_worse",
    };
}
