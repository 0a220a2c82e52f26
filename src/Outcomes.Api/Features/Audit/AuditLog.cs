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
        INSERT INTO audit_event (occurred_at, actor, role, action, resource_type, resource_id, patient_id, outcome, request_id, detail)
        VALUES (@OccurredAt, @Actor, @Role, @Action, @ResourceType, @ResourceId, @PatientId, @Outcome, @RequestId, @Detail);
        """;
}

/// <summary>
/// Appends audit events. Called inside the write's own transaction for writes, so a write and its
/// audit event land together or not at all.
/// </summary>
public sealed class AuditLog(Database database, AuditSql sql, TimeProvider clock, IHttpContextAccessor accessor)
{
    /// <summary>
    /// Appends an audit event: inside <paramref name="transaction"/> when given, else on its own
    /// (then it waits for this process's write turn, see <see cref="Database.EnterWriteAsync"/>).
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
        var http = accessor.HttpContext;
        var user = http is null ? null : CurrentUser.From(http.User);
        using var turn = transaction is null ? await database.EnterWriteAsync(ct) : default;
        await connection.ExecuteAsync(database.Command(sql.Insert, new
        {
            OccurredAt = clock.GetUtcNow(),
            Actor = user?.Subject is { Length: > 0 } s ? s : "(system)",
            Role = user?.Role is { Length: > 0 } r ? r : "(none)",
            Action = action,
            ResourceType = resourceType,
            ResourceId = resourceId?.ToString(),
            PatientId = patientId,
            Outcome = outcome,
            RequestId = http?.TraceIdentifier,
            Detail = detail,
        }, ct, transaction));
    }
}
