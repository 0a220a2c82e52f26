namespace Outcomes.Api.Tests.Infrastructure;

/// <summary>A clock stopped at one instant, for tests whose answer depends on "today".</summary>
public sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
