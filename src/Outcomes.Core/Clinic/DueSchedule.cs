namespace Outcomes.Core.Clinic;

/// <summary>A follow-up time point after a treatment session and the days around it that count.</summary>
/// <param name="Week">Weeks after the session.</param>
/// <param name="EarlyDays">How many days before the target day still count (our choice: 3; docs/clinical-definitions.md).</param>
/// <param name="LateDays">How many days after it still count (e.g. 7).</param>
public sealed record FollowUpWindow(int Week, int EarlyDays = 3, int LateDays = 7)
{
    /// <summary>Weeks 2, 6, 12 and 24: onset, peak, and the expected wear-off at 4–6 months.</summary>
    public static IReadOnlyList<FollowUpWindow> Standard { get; } = [new(2), new(6), new(12), new(24)];

    public DateOnly Start(DateOnly session) => session.AddDays(Week * 7 - EarlyDays);

    public DateOnly End(DateOnly session) => session.AddDays(Week * 7 + LateDays);

    public string Label => $"week{Week}";
}

/// <summary>Something a patient should submit now.</summary>
/// <param name="Kind">painScore or questionnaire.</param>
/// <param name="Instrument">Instrument code (pain_nrs for the weekly pain score).</param>
/// <param name="Timepoint">weekly, baseline, week6, week12 or week24.</param>
/// <param name="From">First day the submission counts for this time point.</param>
/// <param name="Until">Last day it counts; null when open-ended.</param>
public sealed record DueItem(ObservationKind Kind, string Instrument, string Timepoint, DateOnly From, DateOnly? Until);

/// <summary>The facts the schedule needs about one patient.</summary>
/// <param name="LatestSession">Date of the latest treatment session, if any.</param>
/// <param name="PainScoreDates">Days (UTC) with a current pain score, at least those of this week.</param>
/// <param name="QuestionnaireDates">Days (UTC) with a current response, per instrument code.</param>
public sealed record DueInput(
    DateOnly Today,
    DateOnly EnrolledOn,
    IReadOnlyCollection<Condition> Conditions,
    DateOnly? LatestSession,
    IReadOnlyCollection<DateOnly> PainScoreDates,
    IReadOnlyDictionary<string, IReadOnlyCollection<DateOnly>> QuestionnaireDates);

/// <summary>
/// What is due: the weekly pain score if none this ISO week (Monday to Sunday), and each of the
/// condition's questionnaires at baseline and in the week 6, 12 and 24 windows after the latest
/// session, when no response lies in that window yet. PGIC (change since treatment) is asked at
/// the follow-ups only.
/// </summary>
public static class DueSchedule
{
    /// <summary>Follow-ups at which questionnaires are asked (week 2 is for pain onset only).</summary>
    public static IReadOnlyList<FollowUpWindow> QuestionnaireFollowUps { get; } =
        [.. FollowUpWindow.Standard.Where(w => w.Week is 6 or 12 or 24)];

    /// <summary>Days before a session whose responses count as its baseline (our choice: 14; docs/clinical-definitions.md).</summary>
    public const int BaselineDays = 14;

    private static readonly string[] _neck = ["ndi"];
    private static readonly string[] _lowBack = ["odi"];
    private static readonly string[] _headache = ["hit6", "headache_days"];

    /// <summary>NDI for neck/shoulder pain, ODI for low back pain, HIT-6 and headache days for the headache conditions.</summary>
    public static IReadOnlyList<string> InstrumentsFor(IEnumerable<Condition> conditions) =>
        [.. conditions.SelectMany(c => c switch
        {
            Condition.NeckShoulderPain => _neck,
            Condition.LowBackPain => _lowBack,
            Condition.ChronicMigraine or Condition.ChronicTensionTypeHeadache => _headache,
            _ => [],
        }).Distinct().Order(StringComparer.Ordinal)];

    public static DateOnly WeekStart(DateOnly day) => day.AddDays(-(((int)day.DayOfWeek + 6) % 7));

    public static IReadOnlyList<DueItem> Due(DueInput input)
    {
        var due = new List<DueItem>();
        var weekStart = WeekStart(input.Today);
        var weekEnd = weekStart.AddDays(6);
        if (!input.PainScoreDates.Any(d => d >= weekStart && d <= weekEnd))
        {
            due.Add(new DueItem(ObservationKind.PainScore, "pain_nrs", "weekly", weekStart, weekEnd));
        }

        var instruments = InstrumentsFor(input.Conditions);
        foreach (var (timepoint, from, until, codes) in Windows(input, instruments))
        {
            if (input.Today < from || (until is { } end && input.Today > end))
            {
                continue;
            }
            foreach (var code in codes)
            {
                var answered = input.QuestionnaireDates.GetValueOrDefault(code) ?? [];
                if (!answered.Any(d => d >= from && (until is null || d <= until)))
                {
                    due.Add(new DueItem(ObservationKind.Questionnaire, code, timepoint, from, until));
                }
            }
        }
        return due;
    }

    /// <summary>
    /// The earliest day whose responses <see cref="Due"/> may look at: the baseline window before the
    /// latest session (or enrolment, before any), and this week's pain scores if that is earlier.
    /// </summary>
    public static DateOnly LookBackFrom(DateOnly enrolledOn, DateOnly? latestSession, DateOnly today)
    {
        var from = latestSession is { } s ? s.AddDays(-BaselineDays) : enrolledOn;
        var weekStart = WeekStart(today);
        return from < weekStart ? from : weekStart;
    }

    /// <summary>
    /// The input of <see cref="Due"/> from the patient's current answers since <see cref="LookBackFrom"/>:
    /// pain scores (any recall) and questionnaire responses, each with its UTC day.
    /// </summary>
    public static DueInput InputFrom(
        DateOnly today, DateOnly enrolledOn, IReadOnlyCollection<Condition> conditions, DateOnly? latestSession,
        IEnumerable<(bool PainScore, string Code, DateOnly Day)> answered)
    {
        var all = answered.ToList();
        return new DueInput(today, enrolledOn, conditions, latestSession,
            [.. all.Where(a => a.PainScore).Select(a => a.Day)],
            all.Where(a => !a.PainScore).GroupBy(a => a.Code)
                .ToDictionary(g => g.Key, g => (IReadOnlyCollection<DateOnly>)[.. g.Select(a => a.Day)]));
    }

    private static IEnumerable<(string Timepoint, DateOnly From, DateOnly? Until, IReadOnlyList<string> Codes)> Windows(
        DueInput input, IReadOnlyList<string> instruments)
    {
        if (input.LatestSession is not { } session)
        {
            // Not treated yet: a baseline is due from enrolment until the first session.
            yield return ("baseline", input.EnrolledOn, null, instruments);
            yield break;
        }
        yield return ("baseline", session.AddDays(-BaselineDays), session, instruments);
        foreach (var window in QuestionnaireFollowUps)
        {
            yield return (window.Label, window.Start(session), window.End(session), [.. instruments.Append("pgic")]);
        }
    }
}
