using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;
using Outcomes.Core.Alerts;

namespace Outcomes.Api.Features.Alerts;

/// <summary>Whether a webhook address may be registered; the address it resolves to is checked again at every connection.</summary>
public static class WebhookAddress
{
    /// <returns>Null when the address is acceptable, else what is wrong with it.</returns>
    public static string? Problem(string url, bool allowPrivateNetworks)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return "must be an absolute https URL";
        }
        if (uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
        {
            return "must not carry credentials or a fragment";
        }
        var literal = IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var ip) ? ip : null;
        var loopback = uri.IsLoopback;
        if (uri.Scheme == Uri.UriSchemeHttp && !(allowPrivateNetworks && loopback))
        {
            return "must use https (plain http only to a loopback address where private networks are allowed)";
        }
        if (!allowPrivateNetworks && (loopback || (literal is not null && NetworkAddresses.IsPrivate(literal))))
        {
            return "must not point at a loopback or private address";
        }
        return null;
    }
}

/// <summary>A connection the webhook sender refused to make: the host resolved to a private address.</summary>
public sealed class WebhookAddressRefusedException(string message) : Exception(message);

public sealed class DispatchSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string Due { get; } = $"""
        SELECT d.id, d.message_id, d.attempts, d.created_at, w.url, w.secret,
               a.id AS alert_id, a.kind, a.patient_id, a.site_id, a.occurred_on, a.created_at AS alert_created_at
        FROM webhook_delivery d
        INNER JOIN webhook w ON w.id = d.webhook_id
        INNER JOIN alert a ON a.id = d.alert_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= @Now AND (d.claimed_until IS NULL OR d.claimed_until < @Now)
        ORDER BY d.next_attempt_at, d.id
        {dialect.Limit("@Take")};
        """;

    /// <summary>One instance takes a delivery for a while; another takes it only when that lapses (a crash mid-send).</summary>
    public string Claim { get; } = """
        UPDATE webhook_delivery SET claimed_until = @Until
        WHERE id = @Id AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < @Now);
        """;

    public string Delivered { get; } = """
        UPDATE webhook_delivery
        SET status = 'delivered', attempts = attempts + 1, last_attempt_at = @Now, last_status = @LastStatus, last_error = NULL,
            delivered_at = @Now, next_attempt_at = NULL, claimed_until = NULL
        WHERE id = @Id;
        """;

    public string Failed { get; } = """
        UPDATE webhook_delivery
        SET status = @Status, attempts = attempts + 1, last_attempt_at = @Now, last_status = @LastStatus, last_error = @LastError,
            next_attempt_at = @NextAttemptAt, claimed_until = NULL
        WHERE id = @Id;
        """;
}

internal sealed class DueDeliveryRow
{
    public long Id { get; init; }
    public string MessageId { get; init; } = "";
    public int Attempts { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public string Url { get; init; } = "";
    public string Secret { get; init; } = "";
    public long AlertId { get; init; }
    public string Kind { get; init; } = "";
    public long PatientId { get; init; }
    public long SiteId { get; init; }
    public DateOnly OccurredOn { get; init; }
    public DateTimeOffset AlertCreatedAt { get; init; }
}

/// <summary>
/// Sends the outbox: every pending delivery whose time has come, signed as Standard Webhooks defines, at
/// least once. Runs beside the requests (a slow or dead receiver holds up nobody's submission), wakes at
/// once when an alert is committed and looks again every few seconds; several instances may run, each
/// delivery taken by one at a time. A delivery that gets no 2xx answer is retried with backoff for 24
/// hours, then marked failed.
/// </summary>
public sealed class WebhookDispatcher(
    Database db, DispatchSql sql, GroupCommit commits, WebhookSignal signal, IOptions<AlertOptions> options, TimeProvider clock,
    DatabaseHealth health, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private const int Batch = 32;
    private readonly HttpClient _client = CreateClient(options.Value.Webhooks.AllowPrivateNetworks);

    private static HttpClient CreateClient(bool allowPrivateNetworks)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            // No proxy: the address checked below must be the receiver's own.
            UseProxy = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // The address is checked where the connection is made, so a name that resolves elsewhere later cannot slip through.
            ConnectCallback = async (context, ct) =>
            {
                var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, ct);
                if (!allowPrivateNetworks && addresses.Any(NetworkAddresses.IsPrivate))
                {
                    throw new WebhookAddressRefusedException("the receiver's address is loopback or private");
                }
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(options.Value.Webhooks.PollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Not before the schema is current (an operator migrates SQL Server): the API answers 503 meanwhile.
                while ((await health.SchemaForRequestAsync(stoppingToken)).IsCurrent && await RunOnceAsync(stoppingToken) == Batch)
                {
                    // A full batch: there may be more due now.
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The deliveries stay pending in the database: the next round takes them up.
                logger.LogWarning(e, "A round of webhook deliveries failed");
            }
            try
            {
                await signal.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Sends what is due now; returns how many deliveries it took.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        List<DueDeliveryRow> due;
        await using (var connection = await db.OpenAsync(ct))
        {
            due = [.. await connection.QueryAsync<DueDeliveryRow>(db.Command(sql.Due, new { Now = now, Take = Batch }, ct))];
        }
        var timeout = TimeSpan.FromSeconds(options.Value.Webhooks.TimeoutSeconds);
        var claimed = new List<DueDeliveryRow>();
        foreach (var delivery in due)
        {
            var taken = await commits.RunAsync((c, tx) => c.ExecuteAsync(db.Command(sql.Claim, new
            {
                // Long enough for the send to end; short enough that a crash mid-send delays the retry by seconds.
                delivery.Id, Now = now, Until = now + 2 * timeout + TimeSpan.FromSeconds(5),
            }, CancellationToken.None, tx)), ct);
            if (taken == 1)
            {
                claimed.Add(delivery);
            }
        }
        await Task.WhenAll(claimed.Select(d => SendAsync(d, timeout, ct)));
        return due.Count;
    }

    private async Task SendAsync(DueDeliveryRow d, TimeSpan timeout, CancellationToken ct)
    {
        var body = JsonSerializer.Serialize(new
        {
            type = $"alert.{d.Kind}",
            timestamp = d.AlertCreatedAt,
            data = new { alertId = d.AlertId, kind = d.Kind, patientId = d.PatientId, siteId = d.SiteId, occurredOn = d.OccurredOn },
        }, JsonSerializerOptions.Web);
        int? status = null;
        string? error = null;
        try
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attempt.CancelAfter(timeout);
            var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, d.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("webhook-id", d.MessageId);
            request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", StandardWebhooks.Sign(d.Secret, d.MessageId, timestamp, body));
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token);
            status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                error = status is >= 300 and < 400 ? "answered with a redirect, which is not followed" : $"answered {status}";
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            error = $"no answer within {timeout.TotalSeconds:0} s";
        }
        catch (HttpRequestException e) when (e.InnerException is WebhookAddressRefusedException refused)
        {
            error = $"refused: {refused.Message}";
        }
        catch (HttpRequestException e)
        {
            error = e.HttpRequestError == HttpRequestError.Unknown ? "the request failed" : $"the request failed: {e.HttpRequestError}";
        }
        var now = clock.GetUtcNow();
        if (error is null)
        {
            await commits.RunAsync((c, tx) => c.ExecuteAsync(db.Command(sql.Delivered, new { d.Id, Now = now, LastStatus = status }, CancellationToken.None, tx)),
                CancellationToken.None);
            return;
        }
        var next = DeliveryBackoff.Next(d.CreatedAt, now, d.Attempts + 1, Random.Shared.NextDouble());
        await commits.RunAsync((c, tx) => c.ExecuteAsync(db.Command(sql.Failed, new
        {
            d.Id, Now = now, LastStatus = status, LastError = error, NextAttemptAt = next, Status = next is null ? "failed" : "pending",
        }, CancellationToken.None, tx)), CancellationToken.None);
        if (next is null)
        {
            logger.LogWarning("Webhook delivery {DeliveryId} failed for good after {Attempts} attempts: {Error}", d.Id, d.Attempts + 1, error);
        }
    }

    public override void Dispose()
    {
        _client.Dispose();
        base.Dispose();
    }
}
