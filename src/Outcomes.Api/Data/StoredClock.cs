namespace Outcomes.Api.Data;

/// <summary>
/// The system clock, to the millisecond: what SQL Server's <c>DATETIMEOFFSET(3)</c> keeps. Every
/// "now" the service stores (created, received, occurred) is already what a later read returns, on
/// either database, so a 201 answer equals the GET that follows it.
/// </summary>
public sealed class StoredClock : TimeProvider
{
    public override DateTimeOffset GetUtcNow()
    {
        var now = System.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond));
    }
}
