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
/// midnight makes it computed again. An answer is kept only when it is computed a second time under the same counters
/// and day: the first computation only notes that it was asked for (<see cref="Seen"/>) and is streamed to the client.
/// A patient written to between reads (a busy day's patient, whose answers change faster than they are read) thus
/// costs no copy of each answer in memory, while an answer read again and again is computed twice and then written
/// from memory. The access check and the read's audit event are not kept: every read does both. Bounded by the
/// answers' size (<see cref="OutcomesOptions.KeptAnswerMegabytes"/>); past it, the least recently used go.
/// </summary>
public sealed class PatientAnswerCache : IDisposable
{
    /// <param name="Answer">Which answer: <c>trend</c> or <c>outcomes</c>.</param>
    /// <param name="Measure">The measure key asked for, or null for every measure.</param>
    /// <param name="Cycles">The number of latest cycles asked for, or null for all.</param>
    public readonly record struct Key(long PatientId, string Answer, string? Measure, int? Cycles);

    /// <summary>What is kept for a key: nothing, a note that it was computed once, or its JSON.</summary>
    internal enum Kept
    {
        Nothing,
        ComputedOnce,
        Json,
    }

    /// <param name="Json">The answer; null for a note that it was computed once under these counters and day.</param>
    private sealed record Answer(long PatientGeneration, long InstrumentGeneration, DateOnly Day, byte[]? Json);

    /// <summary>Bytes counted for an entry besides its JSON: the key, the entry and the cache's own bookkeeping.</summary>
    private const int EntryOverhead = 256;

    private readonly MemoryCache? _answers;

    public PatientAnswerCache(IOptions<OutcomesOptions> options) =>
        _answers = options.Value.KeptAnswerMegabytes > 0
            ? new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.KeptAnswerMegabytes * 1024L * 1024L })
            : null;

    public bool Enabled => _answers is not null;

    /// <summary>What is kept for <paramref name="key"/> under these counters and day (older counters or day: nothing).</summary>
    internal Kept TryGet(Key key, AnswerGenerations generations, DateOnly day, out byte[]? json)
    {
        json = null;
        if (_answers?.Get(key) is not Answer a || a.PatientGeneration != generations.PatientGeneration
            || a.InstrumentGeneration != generations.InstrumentGeneration || a.Day != day)
        {
            return Kept.Nothing;
        }
        json = a.Json;
        return json is null ? Kept.ComputedOnce : Kept.Json;
    }

    /// <summary>Notes that the answer was computed (not kept) under these counters and day.</summary>
    internal void Seen(Key key, AnswerGenerations generations, DateOnly day) => Put(key, generations, day, null);

    internal void Set(Key key, AnswerGenerations generations, DateOnly day, byte[] json) => Put(key, generations, day, json);

    private void Put(Key key, AnswerGenerations generations, DateOnly day, byte[]? json) =>
        _answers?.Set(key, new Answer(generations.PatientGeneration, generations.InstrumentGeneration, day, json),
            new MemoryCacheEntryOptions { Size = (json?.Length ?? 0) + EntryOverhead });

    /// <summary>For tests: forget every answer.</summary>
    internal void Clear() => _answers?.Clear();

    public void Dispose() => _answers?.Dispose();
}
