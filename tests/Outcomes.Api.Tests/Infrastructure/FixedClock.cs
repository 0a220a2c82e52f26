namespace Outcomes.Api.Tests.Infrastructure;

/// <summary>A clock stopped at one instant, for tests whose answer depends on "today".</summary>
public sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>A clock a test moves forward (to midnight, a week on), for what is kept under the day.</summary>
public sealed class MovableClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
