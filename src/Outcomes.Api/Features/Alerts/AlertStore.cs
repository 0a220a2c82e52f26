using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using Dapper;
using Outcomes.Api.Data;
using Outcomes.Core.Alerts;
using Outcomes.Core.Clinic;

namespace Outcomes.Api.Features.Alerts;

/// <summary>The <c>Alerts</c> configuration section.</summary>
public sealed class AlertOptions
{
    public const string Section = "Alerts";

    /// <summary>Seconds between scans for the time-based alerts; 0 turns the background scan off.</summary>
    [Range(0, 86400)]
    public int ScanSeconds { get; set; } = 300;

    /// <summary>Days back a time-based cause may lie and still raise an alert.</summary>
    [Range(1, 365)]
    public int LookbackDays { get; set; } = 14;

    public WebhookOptions Webhooks { get; set; } = new();
}

public sealed class WebhookOptions
{
    /// <summary>Whether webhooks may reach loopback and private addresses (and plain HTTP on loopback). Off in production.</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Seconds a receiver has to answer one delivery.</summary>
    [Range(1, 60)]
    public int TimeoutSeconds { get; set; } = 5;

    /// <summary>Seconds between looks for due deliveries (a new alert wakes the dispatcher at once).</summary>
    [Range(1, 60)]
    public int PollSeconds { get; set; } = 1;
}

public sealed class AlertSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string InsertIfAbsent { get; } = $"""
        INSERT INTO alert (kind, cause_key, patient_id, site_id, observation_id, session_date, week, occurred_on, created_at)
        SELECT @Kind, @CauseKey, @PatientId, @SiteId, @ObservationId, @SessionDate, @Week, @OccurredOn, @CreatedAt
        WHERE NOT EXISTS (SELECT 1 FROM alert {dialect.KeyRangeLock} WHERE cause_key = @CauseKey);
        """;

    public string IdOfCause { get; } = "SELECT id FROM alert WHERE cause_key = @CauseKey;";

    /// <summary>The site's active webhooks that take this kind (kinds are stored as ",a,b,").</summary>
    public string Subscribers { get; } = "SELECT id FROM webhook WHERE site_id = @SiteId AND disabled_at IS NULL AND kinds LIKE @Pattern;";

    public string InsertDelivery { get; } = """
        INSERT INTO webhook_delivery (message_id, webhook_id, alert_id, status, attempts, next_attempt_at, created_at)
        VALUES (@MessageId, @WebhookId, @AlertId, 'pending', 0, @CreatedAt, @CreatedAt);
        """;

    private const string Columns = """
        a.id, a.kind, a.patient_id, a.site_id, a.observation_id, a.session_date, a.week, a.occurred_on, a.created_at,
        k.acknowledged_at, k.acknowledged_role, k.practitioner_id AS acknowledged_practitioner_id, k.note
        """;

    public string Feed { get; } = $"""
        SELECT {Columns}
        FROM alert a LEFT JOIN alert_acknowledgement k ON k.alert_id = a.id
        WHERE a.id > @After
          AND (@SiteId IS NULL OR a.site_id = @SiteId)
          AND (@Kind IS NULL OR a.kind = @Kind)
          AND (@PatientId IS NULL OR a.patient_id = @PatientId)
          AND (@Status IS NULL OR (@Status = 'open' AND k.id IS NULL) OR (@Status = 'acknowledged' AND k.id IS NOT NULL))
        ORDER BY a.id
        {dialect.Limit("@Take")};
        """;

    public string ById { get; } = $"SELECT {Columns} FROM alert a LEFT JOIN alert_acknowledgement k ON k.alert_id = a.id WHERE a.id = @Id;";

    public string InsertAcknowledgement { get; } = """
        INSERT INTO alert_acknowledgement (alert_id, acknowledged_at, acknowledged_by, acknowledged_role, practitioner_id, note)
        VALUES (@AlertId, @AcknowledgedAt, @AcknowledgedBy, @AcknowledgedRole, @PractitionerId, @Note);
        """;

    /// <summary>Open serious-side-effect alerts per patient, for the patient list.</summary>
    public string OpenSerious { get; } = """
        SELECT a.patient_id, COUNT(*) AS open_alerts FROM alert a
        WHERE a.patient_id IN @Ids AND a.kind = 'seriousSideEffect'
          AND NOT EXISTS (SELECT 1 FROM alert_acknowledgement k WHERE k.alert_id = a.id)
        GROUP BY a.patient_id;
        """;

    public string NoWeeklyScoreWeeks { get; } = "SELECT site_id, no_weekly_score_weeks FROM site_alert_setting;";

    public string SettingOfSite { get; } = "SELECT no_weekly_score_weeks FROM site_alert_setting WHERE site_id = @Id;";

    public string UpdateSetting { get; } =
        "UPDATE site_alert_setting SET no_weekly_score_weeks = @Weeks, updated_at = @UpdatedAt, updated_by = @UpdatedBy WHERE site_id = @SiteId;";

    public string InsertSetting { get; } =
        "INSERT INTO site_alert_setting (site_id, no_weekly_score_weeks, updated_at, updated_by) VALUES (@SiteId, @Weeks, @UpdatedAt, @UpdatedBy);";
}

internal sealed class AlertRow
{
    public long Id { get; init; }
    public string Kind { get; init; } = "";
    public long PatientId { get; init; }
    public long SiteId { get; init; }
    public long? ObservationId { get; init; }
    public DateOnly? SessionDate { get; init; }
    public int? Week { get; init; }
    public DateOnly OccurredOn { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? AcknowledgedAt { get; init; }
    public string? AcknowledgedRole { get; init; }
    public long? AcknowledgedPractitionerId { get; init; }
    public string? Note { get; init; }

    public AlertResponse ToResponse() => new(Id, EnumCode<AlertKind>.Parse(Kind), PatientId, SiteId, ObservationId, SessionDate, Week, OccurredOn, CreatedAt,
        AcknowledgedAt is { } at ? new AcknowledgementResponse(at, AcknowledgedRole!, AcknowledgedPractitionerId, Note) : null);
}

internal sealed class OpenAlertsRow
{
    public long PatientId { get; init; }
    public int OpenAlerts { get; init; }
}

/// <summary>
/// Raises alerts inside the caller's transaction (the outbox): the alert, and a pending delivery for each of the
/// site's webhooks that takes its kind, land with the cause or not at all. A cause raises one alert, ever.
/// </summary>
public sealed class AlertWriter(Database db, AlertSql sql, WebhookSignal signal)
{
    /// <returns>The new alert's id; null when the cause had raised its alert already.</returns>
    public async Task<long?> RaiseAsync(
        DbConnection connection, DbTransaction tx, AlertCause cause, long patientId, long siteId, long? observationId, DateTimeOffset now)
    {
        var kind = EnumCode<AlertKind>.Of(cause.Kind);
        var inserted = await connection.ExecuteAsync(db.Command(sql.InsertIfAbsent, new
        {
            Kind = kind,
            CauseKey = cause.Key,
            PatientId = patientId,
            SiteId = siteId,
            ObservationId = observationId,
            cause.SessionDate,
            cause.Week,
            cause.OccurredOn,
            CreatedAt = now,
        }, CancellationToken.None, tx));
        if (inserted == 0)
        {
            return null;
        }
        var id = await connection.ExecuteScalarAsync<long>(db.Command(sql.IdOfCause, new { CauseKey = cause.Key }, CancellationToken.None, tx));
        var webhooks = await connection.QueryAsync<long>(db.Command(sql.Subscribers, new { SiteId = siteId, Pattern = $"%,{kind},%" }, CancellationToken.None, tx));
        foreach (var webhookId in webhooks)
        {
            await connection.ExecuteAsync(db.Command(sql.InsertDelivery, new
            {
                MessageId = StandardWebhooks.NewMessageId(), WebhookId = webhookId, AlertId = id, CreatedAt = now,
            }, CancellationToken.None, tx));
        }
        return id;
    }

    /// <summary>Wakes the dispatcher: call after the transaction that raised alerts has committed.</summary>
    public void Committed() => signal.Notify();
}

/// <summary>A wake-up call from whoever committed new deliveries to the dispatcher that sends them.</summary>
public sealed class WebhookSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another caller woke it first: one wake-up serves both.
            }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

    public void Dispose() => _signal.Dispose();
}
