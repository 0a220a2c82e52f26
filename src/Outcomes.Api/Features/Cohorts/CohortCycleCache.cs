using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Outcomes.Api.Features.PatientOutcomes;
using Outcomes.Core.Clinic;
using Outcomes.Core.Cohorts;
using Outcomes.Core.Outcomes;

namespace Outcomes.Api.Features.Cohorts;

/// <summary>
/// Each patient's computed cohort cycles (every cycle, before a filter picks the cohort's), kept in memory
/// under the patient's change counter (<c>patient_change</c>, which triggers bump on every insert into the
/// tables a cohort reads: observations, sessions, patient versions with their conditions) and under what
/// they were computed for: the measure's definition, the follow-up window and the baseline rule; and for
/// the days on which they stay the same (<see cref="CycleOutcomes.DaysAlike"/>: only a window still open
/// to the calendar changes with the day). A cohort query computes only the patients whose counter moved
/// since, or whose cycles the day has changed, and reads only their histories when they are few. Bounded: at most <see cref="CohortOptions.CachedCycles"/> cycles; past that, the
/// cache drops the least recently used patients.
/// </summary>
public sealed class CohortCycleCache : IDisposable
{
    /// <summary>What a patient's cycles were computed for; a query for anything else computes them again.</summary>
    public sealed record Scope(MeasureDefinition Measure, FollowUpWindow Window, BaselineRule Rule);

    private sealed record Entry(long Generation, Scope Scope, DateOnly From, DateOnly To, CohortCycle[] Cycles);

    private readonly MemoryCache? _patients;

    public CohortCycleCache(IOptions<CohortOptions> options) =>
        _patients = options.Value.CachedCycles > 0 ? new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.CachedCycles }) : null;

    public bool Enabled => _patients is not null;

    public bool TryGet(long patientId, long generation, Scope scope, DateOnly today, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CohortCycle[]? cycles)
    {
        cycles = _patients?.Get((patientId, scope.Measure.Key, scope.Window.Week)) is Entry entry
            && entry.Generation == generation && entry.From <= today && today <= entry.To && entry.Scope == scope ? entry.Cycles : null;
        return cycles is not null;
    }

    /// <summary>Keeps a patient's cycles, computed on <paramref name="today"/>, for the days they stay the same.</summary>
    public void Set(long patientId, long generation, Scope scope, DateOnly today, CohortCycle[] cycles)
    {
        var (from, to) = (DateOnly.MinValue, DateOnly.MaxValue);
        foreach (var cycle in cycles)
        {
            var (cycleFrom, cycleTo) = CycleOutcomes.DaysAlike(cycle.Outcome, today);
            (from, to) = (cycleFrom > from ? cycleFrom : from, cycleTo < to ? cycleTo : to);
        }
        _patients?.Set((patientId, scope.Measure.Key, scope.Window.Week), new Entry(generation, scope, from, to, cycles),
            new MemoryCacheEntryOptions { Size = cycles.Length + 1 });
    }

    /// <summary>For tests: forget every patient.</summary>
    internal void Clear() => _patients?.Clear();

    public void Dispose() => _patients?.Dispose();
}

/// <summary>
/// Each patient's <see cref="MeasureProgress"/> for a cohort's measure and follow-up window, as last computed, with
/// what it was read from: the stored series' build number and its point count. Under one build a series only grows
/// at its end, so a patient whose change counter moved because values were appended has the kept progress (a copy)
/// advanced by the new points, which the cohort's reader then reads alone from the series' end
/// (<see cref="TryKept"/>); another build, fewer points, other sessions, another definition or rule, and it is read
/// again from the first point. Bounded by <see cref="CohortOptions.KeptProgressCycles"/>; past that, the least
/// recently used patients go. A kept progress is never changed.
/// </summary>
public sealed class CohortProgressCache : IDisposable
{
    private readonly KeptStates<(long PatientId, string MeasureKey, FollowUpWindow Window), MeasureProgress> _kept;

    public CohortProgressCache(IOptions<CohortOptions> options) => _kept = new(options.Value.KeptProgressCycles);

    /// <summary>Whether a progress is kept for the patient, the scope's measure and window (of whatever build).</summary>
    public bool Holds(long patientId, CohortCycleCache.Scope scope) => _kept.Contains((patientId, scope.Measure.Key, scope.Window));

    /// <summary>
    /// The progress kept for the patient's series of this build and at least <paramref name="points"/> points, read for
    /// the scope and the sessions given, with how many of its first points it read: the rest is what advances it.
    /// </summary>
    public bool TryKept(long patientId, CohortCycleCache.Scope scope, IReadOnlyList<CohortSession> sessions, long build, long points,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MeasureProgress? kept, out long read)
    {
        var days = SessionDays(sessions);
        return _kept.TryGet((patientId, scope.Measure.Key, scope.Window), build, points,
            p => p.Measure == scope.Measure && p.Rule == scope.Rule && p.Sessions.SequenceEqual(days), out kept, out read);
    }

    /// <summary>
    /// The outcomes per cycle of the history's values for the window (what <see cref="CycleOutcomes.Compute"/> gives):
    /// from the progress the history was read after (<see cref="PatientHistory.Before"/>), or the kept progress,
    /// advanced by the points after those it read, or read afresh; kept for the next query. Null (the caller computes)
    /// when nothing is kept, or the points are not from a stored series in day order.
    /// </summary>
    public IReadOnlyList<CycleOutcome>? Outcomes(PatientHistory history, MeasureDefinition measure, FollowUpWindow window, BaselineRule rule, DateOnly today)
    {
        if (history.SeriesBuild is not { } build || history.PointCount == 0)
        {
            return null;
        }
        var points = history.Points;
        var scope = new CohortCycleCache.Scope(measure, window, rule);
        MeasureProgress progress;
        if (history.Before is { } earlier)
        {
            progress = earlier.Advanced(points);
        }
        else if (TryKept(history.Patient.Id, scope, history.Sessions, build, points.Count, out var before, out var read)
            && PointSeries.InDayOrder(points, (int)read, before.LastDay))
        {
            progress = before.Advanced(points, (int)read);
        }
        else if (PointSeries.InDayOrder(points))
        {
            progress = new MeasureProgress(measure, SessionDays(history.Sessions), rule, [window]);
            progress.AddRange(points);
        }
        else
        {
            return null;
        }
        _kept.Set((history.Patient.Id, measure.Key, window), build, progress.Count, progress, progress.Sessions.Count + 1);
        return progress.Outcomes(today);
    }

    private static DateOnly[] SessionDays(IReadOnlyList<CohortSession> sessions) => [.. sessions.Select(s => s.Date).Distinct().Order()];

    /// <summary>For tests: forget every progress.</summary>
    internal void Clear() => _kept.Clear();

    public void Dispose() => _kept.Dispose();
}
