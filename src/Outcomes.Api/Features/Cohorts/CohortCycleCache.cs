using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
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
