using System.Data;
using Dapper;
using Outcomes.Api.Data;
using Outcomes.Api.Infrastructure;

namespace Outcomes.Api.Features.Audit;

public static class AuditActions
{
    public const string Create = "create";
    public const string Read = "read";
    public const string List = "list";
}

public static class AuditOutcomes
{
    public const string Success = "success";
    public const string NotFound = "not_found";
}

public sealed class AuditSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string Insert { get; } = """
        INSERT INTO audit_event (occurred_at, actor, role, action, resource_type, resource_id, patient_id, outcome, request_id, detail, actor_practitioner_id)
        VALUES (@OccurredAt, @Actor, @Role, @Action, @ResourceType, @ResourceId, @PatientId, @Outcome, @RequestId, @Detail, @ActorPractitionerId);
        """;
}

/// <summary>One audit event, with who and which request captured when it was made.</summary>
public sealed record AuditEntry(
    DateTimeOffset OccurredAt, string Actor, string Role, string Action, string ResourceType, string? ResourceId, long? PatientId,
    string Outcome, string? RequestId, string? Detail, long? ActorPractitionerId = null);

/// <summary>
/// Appends audit events. Called inside the write's own transaction for writes, so a write and its
/// audit event land together or not at all; a read's event is committed before the read answers.
/// </summary>
public sealed class AuditLog(Database database, AuditSql sql, TimeProvider clock, IHttpContextAccessor accessor, GroupCommit commits)
{
    /// <summary>
    /// Appends an event: inside <paramref name="transaction"/> when given, else in a group commit
    /// (see <see cref="GroupCommit"/>) that has committed when this returns.
    /// </summary>
    public async Task AppendAsync(
        IDbConnection connection,
        string action,
        string resourceType,
        object? resourceId,
        long? patientId,
        CancellationToken ct,
        IDbTransaction? transaction = null,
        string outcome = AuditOutcomes.Success,
        string? detail = null)
    {
        var entry = Entry(action, resourceType, resourceId, patientId, outcome, detail);
        if (transaction is not null || !commits.Batches)
        {
            await InsertAsync(connection, transaction, entry, ct);
            return;
        }
        await commits.RunAsync(async (c, tx) => await InsertAsync(c, tx, entry, CancellationToken.None), ct);
    }

    /// <summary>Appends several events in one transaction (a group commit on SQLite): all have committed when this returns, or none.</summary>
    public Task<int> AppendAllAsync(IReadOnlyList<AuditEntry> entries, CancellationToken ct) =>
        commits.RunAsync(async (c, tx) =>
        {
            foreach (var entry in entries)
            {
                await InsertAsync(c, tx, entry, CancellationToken.None);
            }
            return entries.Count;
        }, ct);

    /// <summary>An event of the current request, to be inserted later with <see cref="InsertAsync"/>.</summary>
    public AuditEntry Entry(
        string action, string resourceType, object? resourceId, long? patientId, string outcome = AuditOutcomes.Success, string? detail = null)
    {
        var http = accessor.HttpContext;
        var user = http is null ? null : CurrentUser.From(http.User);
        return new AuditEntry(
            clock.GetUtcNow(),
            user?.Subject is { Length: > 0 } s ? s : "(system)",
            user?.Role is { Length: > 0 } r ? r : "(none)",
            action,
            resourceType,
            resourceId?.ToString(),
            patientId,
            outcome,
            http?.TraceIdentifier,
            detail,
            user?.PractitionerId);
    }

    public Task<int> InsertAsync(IDbConnection connection, IDbTransaction? transaction, AuditEntry entry, CancellationToken ct) =>
        connection.ExecuteAsync(database.Command(sql.Insert, entry, ct, transaction));
}
