using Microsoft.Extensions.Caching.Memory;

namespace Outcomes.Api.Features.PatientOutcomes;

/// <summary>
/// States computed from a stored series, each kept with what it was read from: the series' build number (migration
/// 0021) and how many points it had read. Under one build a series only grows at its end (appended values, folded
/// tails), so a kept state is usable for a series of the same build with at least as many points, and is advanced by
/// the rest; another build or fewer points, and the caller reads it again. What else a state must match (a session,
/// the measure, the rule) the caller says. Bounded by a size limit in the caller's units; past it, the least recently
/// used go. A limit of 0 keeps nothing. The patient list's cycle states, the trend's and the cohort's progress use it.
/// </summary>
public sealed class KeptStates<TKey, TState> : IDisposable
    where TKey : notnull
    where TState : class
{
    private sealed record Kept(long? BuildNumber, long Points, TState State);

    private readonly MemoryCache? _kept;

    public KeptStates(long sizeLimit) =>
        _kept = sizeLimit > 0 ? new MemoryCache(new MemoryCacheOptions { SizeLimit = sizeLimit }) : null;

    /// <summary>
    /// A state read from the first <paramref name="read"/> points of the same build, for which <paramref name="fits"/>
    /// holds; not when the series holds fewer points now.
    /// </summary>
    public bool TryGet(TKey key, long? buildNumber, long points, Func<TState, bool> fits,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TState? state, out long read)
    {
        var kept = _kept?.Get(key) as Kept;
        var usable = kept is not null && kept.BuildNumber == buildNumber && kept.Points <= points && fits(kept.State);
        (state, read) = usable ? (kept!.State, kept.Points) : (null, 0);
        return usable;
    }

    /// <summary>Whether a state is kept under the key, whatever it was read from.</summary>
    public bool Contains(TKey key) => _kept?.TryGetValue(key, out _) == true;

    public void Set(TKey key, long? buildNumber, long points, TState state, long size) =>
        _kept?.Set(key, new Kept(buildNumber, points, state), new MemoryCacheEntryOptions { Size = size });

    /// <summary>For tests: forget every state.</summary>
    internal void Clear() => _kept?.Clear();

    public void Dispose() => _kept?.Dispose();
}
