using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Outcomes.Api.Tests.Data;

namespace Outcomes.Api.Tests.Infrastructure;

/// <summary>
/// The service as an operator runs it: its own process (<c>dotnet Outcomes.Api.dll</c>), on a port of
/// its own, with what it prints and its exit code. Optionally inside a mount namespace of its own
/// (<c>unshare</c>), so that a test can give it a small disk or a read-only directory without
/// touching the machine's mounts.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private ServiceProcess(Process process, int port, TestTokens tokens)
    {
        _process = process;
        Port = port;
        Tokens = tokens;
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public TestTokens Tokens { get; }

    public string StandardOutput { get { lock (_stdout) { return _stdout.ToString(); } } }

    public string StandardError { get { lock (_stderr) { return _stderr.ToString(); } } }

    /// <summary>The service's own build, beside the tests' (same configuration).</summary>
    public static string AppDirectory { get; } = Path.Combine(MigrationFiles.RepositoryRoot, "src", "Outcomes.Api", "bin",
        new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name, "net10.0");

    /// <summary>Why namespaced runs cannot happen here, or null when they can.</summary>
    public static string? NamespaceUnavailable { get; } = ProbeNamespaces();

    /// <summary>
    /// Starts the service with <paramref name="settings"/> (as environment variables) and its own
    /// token keys. With <paramref name="mountScript"/>, the script runs first in a new mount
    /// namespace, then the service in it.
    /// </summary>
    public static ServiceProcess Start(IReadOnlyDictionary<string, string> settings, string? mountScript = null, params string[] args)
    {
        var tokens = new TestTokens();
        var port = FreePort();
        var app = Path.Combine(AppDirectory, "Outcomes.Api.dll");
        var start = mountScript is null
            ? new ProcessStartInfo("dotnet") { ArgumentList = { app } }
            : new ProcessStartInfo("unshare") { ArgumentList = { "--mount", "--map-root-user", "sh", "-c", $"set -e; {mountScript}; exec dotnet \"$0\" \"$@\"", app } };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.WorkingDirectory = AppDirectory;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in tokens.Settings.Select(kv => KeyValuePair.Create(kv.Key, kv.Value!)).Concat(settings))
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        return new ServiceProcess(Process.Start(start)!, port, tokens);
    }

    /// <summary>Starts the service and waits until it listens; fails with what it printed if it exits first.</summary>
    public static async Task<ServiceProcess> StartListeningAsync(IReadOnlyDictionary<string, string> settings, string? mountScript = null)
    {
        var service = Start(settings, mountScript);
        using var client = service.Client();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (service._process.HasExited)
            {
                Assert.Fail($"The service exited with {service._process.ExitCode}:\n{service.StandardOutput}\n{service.StandardError}");
            }
            try
            {
                await client.GetAsync("/health/live");
                return service;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }
        await service.DisposeAsync();
        throw new TimeoutException("The service did not listen within 60 s.");
    }

    /// <summary>Waits for the process to exit (it is expected to), and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // flushes the redirected streams
        return _process.ExitCode;
    }

    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    public HttpClient Admin() => Client(Tokens.Create(Outcomes.Api.Infrastructure.Roles.Admin, subject: "admin-1"));

    /// <summary>Kills the service at once (SIGKILL), as a crash or an impatient operator would.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private static void Append(StringBuilder sink, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (sink)
        {
            sink.AppendLine(line);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? ProbeNamespaces()
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo("unshare", "--mount --map-root-user sh -c \"mount -t tmpfs -o size=1m tmpfs /mnt\"")
            {
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            probe.WaitForExit(10_000);
            return probe.ExitCode == 0 ? null : $"unshare cannot mount in a namespace here: {probe.StandardError.ReadToEnd().Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"unshare is not available: {e.Message}";
        }
    }
}
