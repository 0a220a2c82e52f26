using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Outcomes.Api.Tests.Infrastructure;

/// <summary>One request a <see cref="WebhookReceiver"/> received, and the status it answered (null: it never answered).</summary>
public sealed record ReceivedWebhook(string? Id, string? Timestamp, string? Signature, string Body, int? Answered);

/// <summary>
/// A real HTTP receiver on loopback, as a clinic's pager gateway would be: it records every request and
/// answers as the test says: with the next status of a script, or never (it holds the request open).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<int> _script = new();
    private readonly List<ReceivedWebhook> _received = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly SemaphoreSlim _arrived = new(0);

    public WebhookReceiver(params int[] script)
    {
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        foreach (var status in script)
        {
            _script.Enqueue(status);
        }
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hook";

    /// <summary>Answer 200 once the script is used up (else: never answer).</summary>
    public bool AnswerWhenDone { get; set; } = true;

    /// <summary>Whether requests are held open without an answer, whatever the script says.</summary>
    public bool Hang { get; set; }

    public IReadOnlyList<ReceivedWebhook> Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>Waits until <paramref name="count"/> requests have arrived in all (fails the test after <paramref name="timeout"/>).</summary>
    public async Task WaitForAsync(int count, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (Received.Count < count)
        {
            try
            {
                await _arrived.WaitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"{Received.Count} webhook requests arrived within {timeout.TotalSeconds} s; {count} were expected");
            }
        }
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            int? status = Hang ? null : _script.TryDequeue(out var next) ? next : AnswerWhenDone ? 200 : null;
            lock (_received)
            {
                _received.Add(new ReceivedWebhook(context.Request.Headers["webhook-id"], context.Request.Headers["webhook-timestamp"],
                    context.Request.Headers["webhook-signature"], body, status));
            }
            _arrived.Release();
            if (status is { } code)
            {
                context.Response.StatusCode = code;
                context.Response.Close();
            }
            // else: the request stays open; the sender's own timeout ends it.
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (ObjectDisposedException)
        {
            // The listener was closed under a pending accept.
        }
        _stop.Dispose();
        _arrived.Dispose();
    }
}
