using System.Globalization;
using Outcomes.Core.Clinic;
using Outcomes.Core.Outcomes;

namespace Outcomes.Core.Alerts;

public enum AlertKind
{
    /// <summary>A serious side effect was reported (difficulty swallowing or breathing, or a severe one).</summary>
    SeriousSideEffect,

    /// <summary>A follow-up window (week 2, 6, 12 or 24) closed without what was due in it.</summary>
    FollowUpOverdue,

    /// <summary>No weekly pain score for the site's number of weeks (default 2).</summary>
    NoWeeklyScore,

    /// <summary>The current cycle's pain response was lost (two reports in a row failing the 30% test).</summary>
    ResponseLost,
}

/// <summary>What raises one alert: its kind, a key unique to the cause (so it is raised once), and the day it arose.</summary>
public sealed record AlertCause(AlertKind Kind, string Key, DateOnly OccurredOn, DateOnly? SessionDate = null, int? Week = null);

/// <summary>
/// The causes of alerts. A serious side effect raises one at once, keyed by its record (an amendment of a
/// serious report raises nothing new); the time-based kinds are found by a scan, for one patient at a time,
/// and only where the cause arose within the look-back (so that switching alerts on does not raise every
/// gap of the past).
/// </summary>
public static class AlertRules
{
    /// <summary>Default weeks without a weekly pain score before an alert.</summary>
    public const int DefaultNoWeeklyScoreWeeks = 2;

    public static AlertCause SeriousSideEffect(long recordId, DateOnly reportedOn) =>
        new(AlertKind.SeriousSideEffect, string.Create(CultureInfo.InvariantCulture, $"seriousSideEffect:{recordId}"), reportedOn);

    /// <param name="input">The patient's due-schedule facts (latest session, answers since its baseline window).</param>
    /// <param name="currentCycle">The pain response state of the latest session's cycle, if any.</param>
    public static IReadOnlyList<AlertCause> TimeBased(
        long patientId, DueInput input, CycleState? currentCycle, int noWeeklyScoreWeeks, int lookbackDays)
    {
        var today = input.Today;
        var since = today.AddDays(-lookbackDays);
        var causes = new List<AlertCause>();
        if (input.LatestSession is not { } session)
        {
            return causes;
        }
        var day = session.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

        // Follow-ups: the week-2 window is for the pain score (onset); weeks 6, 12 and 24 for the
        // condition's questionnaires and the global impression of change.
        var questionnaires = DueSchedule.InstrumentsFor(input.Conditions).Append("pgic").ToList();
        foreach (var window in FollowUpWindow.Standard)
        {
            var (from, until) = (window.Start(session), window.End(session));
            var closedOn = until.AddDays(1);
            if (!ClosedInLookBack(until, today, since))
            {
                continue;
            }
            bool Answered(IEnumerable<DateOnly> days) => days.Any(d => d >= from && d <= until);
            var missing = window.Week == 2
                ? !Answered(input.PainScoreDates)
                : questionnaires.Any(code => !Answered(input.QuestionnaireDates.GetValueOrDefault(code) ?? []));
            if (missing)
            {
                causes.Add(new AlertCause(AlertKind.FollowUpOverdue,
                    string.Create(CultureInfo.InvariantCulture, $"followUpOverdue:{patientId}:{day}:week{window.Week}"), closedOn, session, window.Week));
            }
        }

        // No weekly score: counted from the latest pain score since the session's baseline window, or from the session.
        var lastScore = input.PainScoreDates.Where(d => d >= session.AddDays(-DueSchedule.BaselineDays)).DefaultIfEmpty(session).Max();
        var reference = lastScore > session ? lastScore : session;
        var due = reference.AddDays(noWeeklyScoreWeeks * 7);
        if (due <= today && due >= since)
        {
            causes.Add(new AlertCause(AlertKind.NoWeeklyScore,
                string.Create(CultureInfo.InvariantCulture, $"noWeeklyScore:{patientId}:{reference:yyyy-MM-dd}"), due, session));
        }

        if (currentCycle is { Status: ResponseStatus.Lost, LossOn: { } lossOn } && currentCycle.Session == session && lossOn >= since)
        {
            causes.Add(new AlertCause(AlertKind.ResponseLost,
                string.Create(CultureInfo.InvariantCulture, $"responseLost:{patientId}:{day}"), lossOn, session));
        }
        return causes;
    }

    /// <summary>
    /// The days whose pain scores <see cref="TimeBased"/> looks at one by one: the week-2 window of the latest session
    /// when it closed within the look-back; null when it did not. Of the other pain scores only the latest counts
    /// (from it the weeks without a score are counted), so a caller may give TimeBased the scores of these days and
    /// the latest score instead of every score since the look-back began: the causes are the same.
    /// </summary>
    public static (DateOnly From, DateOnly Until)? PainDaysLookedAt(DateOnly latestSession, DateOnly today, int lookbackDays)
    {
        var onset = FollowUpWindow.Standard.Single(w => w.Week == 2);
        var (from, until) = (onset.Start(latestSession), onset.End(latestSession));
        return ClosedInLookBack(until, today, today.AddDays(-lookbackDays)) ? (from, until) : null;
    }

    /// <summary>Whether a window that ended on <paramref name="until"/> closed (the day after) by today and within the look-back.</summary>
    private static bool ClosedInLookBack(DateOnly until, DateOnly today, DateOnly since) =>
        until.AddDays(1) is var closedOn && closedOn <= today && closedOn >= since;
}
