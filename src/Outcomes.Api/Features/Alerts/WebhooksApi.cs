using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Alerts;
using Outcomes.Core.Clinic;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Features.Alerts;

/// <param name="Url">Where deliveries are POSTed: https (plain http only to a loopback address, in development and tests).</param>
/// <param name="Kinds">The alert kinds to send.</param>
public sealed record CreateWebhookRequest([property: Required] string? Url, [property: Required] IReadOnlyList<AlertKind>? Kinds);

/// <param name="Secret">The signing secret (whsec_ + base64), shown this once: keep it where the receiver verifies signatures.</param>
public sealed record CreatedWebhookResponse(long Id, string Url, IReadOnlyList<AlertKind> Kinds, string Secret, DateTimeOffset CreatedAt);

/// <param name="DisabledAt">Null while the webhook is active.</param>
public sealed record WebhookResponse(long Id, long SiteId, string Url, IReadOnlyList<AlertKind> Kinds, DateTimeOffset CreatedAt, DateTimeOffset? DisabledAt);

/// <param name="MessageId">The webhook-id header of every attempt: receivers drop a second delivery with the same id.</param>
/// <param name="Status">pending (queued or retrying), delivered, or failed (no 2xx answer within 24 hours).</param>
/// <param name="LastStatusCode">The receiver's last HTTP status; null when it did not answer.</param>
/// <param name="LastError">Why the last attempt failed, in words (never the receiver's body).</param>
public sealed record DeliveryResponse(
    long Id, string MessageId, long AlertId, string Status, int Attempts, DateTimeOffset? NextAttemptAt, DateTimeOffset? LastAttemptAt,
    int? LastStatusCode, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt);

public sealed class WebhookSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string Insert { get; } = dialect.InsertReturningId("webhook",
        "site_id, url, kinds, secret, created_at, created_by", "@SiteId, @Url, @Kinds, @Secret, @CreatedAt, @CreatedBy");

    public string OfSite { get; } = "SELECT id, site_id, url, kinds, created_at, disabled_at FROM webhook WHERE site_id = @SiteId ORDER BY id;";

    public string ById { get; } = "SELECT id, site_id, url, kinds, created_at, disabled_at FROM webhook WHERE id = @Id AND site_id = @SiteId;";

    public string Disable { get; } =
        "UPDATE webhook SET disabled_at = @Now, disabled_by = @By WHERE id = @Id AND site_id = @SiteId AND disabled_at IS NULL;";

    private const string DeliveryColumns = """
        id, message_id, alert_id, status, attempts, next_attempt_at, last_attempt_at, last_status, last_error, created_at, delivered_at
        """;

    public string Deliveries { get; } = $"""
        SELECT {DeliveryColumns} FROM webhook_delivery
        WHERE webhook_id = @WebhookId AND id > @After AND (@Status IS NULL OR status = @Status)
        ORDER BY id
        {dialect.Limit("@Take")};
        """;

    public string DeliveryById { get; } = $"SELECT {DeliveryColumns} FROM webhook_delivery WHERE id = @Id AND webhook_id = @WebhookId;";

    /// <summary>A re-send: the same message id, attempted again from now, for another 24 hours.</summary>
    public string Redeliver { get; } = """
        UPDATE webhook_delivery SET status = 'pending', attempts = 0, next_attempt_at = @Now, claimed_until = NULL, created_at = @Now
        WHERE id = @Id AND webhook_id = @WebhookId AND status = 'failed';
        """;
}

internal sealed class WebhookRow
{
    public long Id { get; init; }
    public long SiteId { get; init; }
    public string Url { get; init; } = "";
    public string Kinds { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DisabledAt { get; init; }

    public WebhookResponse ToResponse() => new(Id, SiteId, Url, WebhookKinds.Parse(Kinds), CreatedAt, DisabledAt);
}

internal sealed class DeliveryRow
{
    public long Id { get; init; }
    public string MessageId { get; init; } = "";
    public long AlertId { get; init; }
    public string Status { get; init; } = "";
    public int Attempts { get; init; }
    public DateTimeOffset? NextAttemptAt { get; init; }
    public DateTimeOffset? LastAttemptAt { get; init; }
    public int? LastStatus { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }

    public DeliveryResponse ToResponse() =>
        new(Id, MessageId, AlertId, Status, Attempts, Status == "pending" ? NextAttemptAt : null, LastAttemptAt, LastStatus, LastError, CreatedAt, DeliveredAt);
}

/// <summary>Kinds as stored: ",seriousSideEffect,noWeeklyScore," so that one LIKE finds a kind on either database.</summary>
public static class WebhookKinds
{
    public static string Store(IEnumerable<AlertKind> kinds) => "," + string.Join(',', kinds.Distinct().Order().Select(EnumCode<AlertKind>.Of)) + ",";

    public static IReadOnlyList<AlertKind> Parse(string stored) =>
        [.. stored.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(EnumCode<AlertKind>.Parse)];
}

public static class WebhooksApi
{
    private const string Resource = "webhook";
    public const int MaxUrlLength = 2000;

    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/sites/{siteId:long}/webhooks").WithTags("Alerts").RequireAuthorization(Policies.Admin);

        group.MapPost("", Create)
            .WithName("CreateWebhook")
            .WithSummary("Send a site's alerts to a clinic system")
            .WithDescription("Admins only. Deliveries follow the Standard Webhooks specification (webhook-id, webhook-timestamp and "
                + "webhook-signature headers; v1 HMAC-SHA256 signatures), at least once, retried with backoff for 24 hours. The secret is "
                + "shown in this answer only. https only, except plain http to loopback where private networks are allowed; "
                + "loopback and private addresses are refused unless Alerts:Webhooks:AllowPrivateNetworks is true. Audited.");

        group.MapGet("", List)
            .WithName("ListWebhooks")
            .WithSummary("A site's webhooks")
            .WithDescription("Admins only; secrets are never shown again.");

        group.MapDelete("/{webhookId:long}", Disable)
            .WithName("DisableWebhook")
            .WithSummary("Disable a webhook")
            .WithDescription("Admins only. Nothing new is queued for it; what was queued is still attempted. Audited.");

        group.MapGet("/{webhookId:long}/deliveries", Deliveries)
            .WithName("ListWebhookDeliveries")
            .WithSummary("A webhook's deliveries: pending, delivered and failed")
            .WithDescription("Admins only; keyset-paged, filter by status.");

        group.MapPost("/{webhookId:long}/deliveries/{deliveryId:long}/redelivery", Redeliver)
            .WithName("RedeliverWebhook")
            .WithSummary("Send a failed delivery again")
            .WithDescription("Admins only: the same message id (receivers still drop duplicates), tried again for another 24 hours. "
                + "Only a failed delivery can be re-sent (409 otherwise). Audited.");
        return group;
    }

    public static async Task<Results<Created<CreatedWebhookResponse>, ValidationProblem, NotFoundProblem>> Create(
        [Description("The site's id.")] long siteId, CreateWebhookRequest request, HttpContext http, Database db, WebhookSql sql, Sites.SiteSql sites,
        AuditLog audit, TimeProvider clock, IOptions<AlertOptions> options, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (errors.Required(request.Url, "url"))
        {
            errors.Check(request.Url!.Length <= MaxUrlLength, "url", $"must be at most {MaxUrlLength} characters");
            if (WebhookAddress.Problem(request.Url, options.Value.Webhooks.AllowPrivateNetworks) is { } problem)
            {
                errors.Add("url", problem);
            }
        }
        if (errors.Required(request.Kinds, "kinds"))
        {
            errors.Check(request.Kinds!.Count > 0, "kinds", "must name at least one alert kind");
        }
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        await using var connection = await db.OpenAsync(ct);
        if (await connection.ExecuteScalarAsync<long>(db.Command(sites.SiteExists, new { Id = siteId }, ct)) == 0)
        {
            return Problems.NotFound("site");
        }
        var secret = StandardWebhooks.NewSecret();
        var now = clock.GetUtcNow();
        var kinds = WebhookKinds.Store(request.Kinds!);
        using var writeTurn = await db.EnterWriteAsync(connection, ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var id = await connection.ExecuteScalarAsync<long>(db.Command(sql.Insert, new
        {
            SiteId = siteId, request.Url, Kinds = kinds, Secret = secret, CreatedAt = now, CreatedBy = CurrentUser.From(http.User).Subject,
        }, ct, tx));
        await audit.AppendAsync(connection, AuditActions.Create, Resource, id, null, ct, tx);
        await tx.CommitAsync(ct);
        return TypedResults.Created($"/api/v1/sites/{siteId}/webhooks/{id}",
            new CreatedWebhookResponse(id, request.Url!, WebhookKinds.Parse(kinds), secret, now));
    }

    public static async Task<Results<Ok<IReadOnlyList<WebhookResponse>>, NotFoundProblem>> List(
        [Description("The site's id.")] long siteId, Database db, WebhookSql sql, Sites.SiteSql sites, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await connection.ExecuteScalarAsync<long>(db.Command(sites.SiteExists, new { Id = siteId }, ct)) == 0)
        {
            return Problems.NotFound("site");
        }
        var rows = await connection.QueryAsync<WebhookRow>(db.Command(sql.OfSite, new { SiteId = siteId }, ct));
        return TypedResults.Ok<IReadOnlyList<WebhookResponse>>([.. rows.Select(r => r.ToResponse())]);
    }

    public static async Task<Results<Ok<WebhookResponse>, NotFoundProblem>> Disable(
        [Description("The site's id.")] long siteId, [Description("The webhook's id.")] long webhookId, HttpContext http, Database db,
        WebhookSql sql, AuditLog audit, TimeProvider clock, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        using var writeTurn = await db.EnterWriteAsync(connection, ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(db.Command(sql.Disable, new
        {
            Id = webhookId, SiteId = siteId, Now = clock.GetUtcNow(), By = CurrentUser.From(http.User).Subject,
        }, ct, tx));
        var row = await connection.QuerySingleOrDefaultAsync<WebhookRow>(db.Command(sql.ById, new { Id = webhookId, SiteId = siteId }, ct, tx));
        if (row is null)
        {
            return Problems.NotFound(Resource);
        }
        await audit.AppendAsync(connection, "disable", Resource, webhookId, null, ct, tx);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(row.ToResponse());
    }

    public static async Task<Results<Ok<Page<DeliveryResponse>>, ValidationProblem, NotFoundProblem>> Deliveries(
        [Description("The site's id.")] long siteId, [Description("The webhook's id.")] long webhookId,
        [Description("pending, delivered or failed.")] string? status,
        [Description(Paging.CursorDescription)] string? cursor,
        [Description("Page size, 1 to 200 (default 50).")] int? limit,
        Database db, WebhookSql sql, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        errors.Check(status is null or "pending" or "delivered" or "failed", "status", "must be pending, delivered or failed");
        errors.Check(Paging.TryReadIdCursor(cursor, out var after), "cursor", Paging.BadCursor);
        errors.Check(Paging.IsValidLimit(limit), "limit", $"must be 1 to {Paging.MaxLimit}");
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        await using var connection = await db.OpenAsync(ct);
        if (await connection.QuerySingleOrDefaultAsync<WebhookRow>(db.Command(sql.ById, new { Id = webhookId, SiteId = siteId }, ct)) is null)
        {
            return Problems.NotFound(Resource);
        }
        var take = limit ?? Paging.DefaultLimit;
        var rows = (await connection.QueryAsync<DeliveryRow>(db.Command(sql.Deliveries, new
        {
            WebhookId = webhookId, After = after, Status = status, Take = take + 1,
        }, ct))).ToList();
        var next = Paging.TrimToPage(rows, take, r => (long?)r.Id);
        return TypedResults.Ok(new Page<DeliveryResponse>([.. rows.Select(r => r.ToResponse())], Paging.IdCursor(next)));
    }

    public static async Task<Results<Ok<DeliveryResponse>, NotFoundProblem, ConflictProblem>> Redeliver(
        [Description("The site's id.")] long siteId, [Description("The webhook's id.")] long webhookId, [Description("The delivery's id.")] long deliveryId,
        Database db, WebhookSql sql, AuditLog audit, TimeProvider clock, WebhookSignal signal, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await connection.QuerySingleOrDefaultAsync<WebhookRow>(db.Command(sql.ById, new { Id = webhookId, SiteId = siteId }, ct)) is null)
        {
            return Problems.NotFound(Resource);
        }
        using (var writeTurn = await db.EnterWriteAsync(connection, ct))
        {
            await using var tx = await connection.BeginTransactionAsync(ct);
            var changed = await connection.ExecuteAsync(db.Command(sql.Redeliver, new { Id = deliveryId, WebhookId = webhookId, Now = clock.GetUtcNow() }, ct, tx));
            var row = await connection.QuerySingleOrDefaultAsync<DeliveryRow>(db.Command(sql.DeliveryById, new { Id = deliveryId, WebhookId = webhookId }, ct, tx));
            if (row is null)
            {
                return Problems.NotFound("delivery");
            }
            if (changed == 0)
            {
                return Problems.Conflict($"Delivery {deliveryId} is {row.Status}: only a failed delivery is sent again.");
            }
            await audit.AppendAsync(connection, "redeliver", "webhook_delivery", deliveryId, null, ct, tx);
            await tx.CommitAsync(ct);
            signal.Notify();
            return TypedResults.Ok(row.ToResponse());
        }
    }
}
