using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Outcomes.Api.Features.PatientOutcomes;

/// <summary>
/// What a patient's trend or outcomes answer was computed under: the patient's change counter (<c>patient_change</c>,
/// migration 0019, which database triggers bump with every observation, session, correction and withdrawal the
/// answer could show) and the newest instrument version's id (a new version renames or re-scales the measure it
/// defines). Read before the answer's values, so an answer is never kept under a newer counter than it saw.
/// </summary>
internal sealed class AnswerGenerations
{
    public long PatientGeneration { get; init; }

    public long InstrumentGeneration { get; init; }
}

/// <summary>
/// Each patient's trend and outcomes answers as last written (their JSON), per measure and number of cycles asked for, with
/// what it was computed under (<see cref="AnswerGenerations"/>) and the day it judged its windows against. It is written
/// again as it was only when all of them match, so any write by any path or instance, a new instrument version or
/// midnight makes it computed again. The access check and the read's audit event are not kept: every read does both.
/// Bounded by the answers' size (<see cref="OutcomesOptions.KeptAnswerMegabytes"/>); past it, the least recently used go.
/// </summary>
public sealed class PatientAnswerCache : IDisposable
{
    /// <param name="Answer">Which answer: <c>trend</c> or <c>outcomes</c>.</param>
    /// <param name="Measure">The measure key asked for, or null for every measure.</param>
    /// <param name="Cycles">The number of latest cycles asked for, or null for all.</param>
    public readonly record struct Key(long PatientId, string Answer, string? Measure, int? Cycles);

    private sealed record Answer(long PatientGeneration, long InstrumentGeneration, DateOnly Day, byte[] Json);

    /// <summary>Bytes counted for an entry besides its JSON: the key, the entry and the cache's own bookkeeping.</summary>
    private const int EntryOverhead = 256;

    private readonly MemoryCache? _answers;

    public PatientAnswerCache(IOptions<OutcomesOptions> options) =>
        _answers = options.Value.KeptAnswerMegabytes > 0
            ? new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.KeptAnswerMegabytes * 1024L * 1024L })
            : null;

    public bool Enabled => _answers is not null;

    internal bool TryGet(Key key, AnswerGenerations generations, DateOnly day, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? json)
    {
        json = _answers?.Get(key) is Answer a && a.PatientGeneration == generations.PatientGeneration
            && a.InstrumentGeneration == generations.InstrumentGeneration && a.Day == day ? a.Json : null;
        return json is not null;
    }

    internal void Set(Key key, AnswerGenerations generations, DateOnly day, byte[] json) =>
        _answers?.Set(key, new Answer(generations.PatientGeneration, generations.InstrumentGeneration, day, json),
            new MemoryCacheEntryOptions { Size = json.Length + EntryOverhead });

    /// <summary>For tests: forget every answer.</summary>
    internal void Clear() => _answers?.Clear();

    public void Dispose() => _answers?.Dispose();
}
