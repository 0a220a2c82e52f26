using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;

namespace Outcomes.Api.Infrastructure;

/// <summary>The <c>RateLimiting</c> section: requests per client (token subject, else address) per window.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimiting";

    [Range(1, 1_000_000)]
    public int PermitLimit { get; set; } = 600;

    [Range(1, 3600)]
    public int WindowSeconds { get; set; } = 60;

    /// <summary>Attempts per client address at the token endpoint per <see cref="TokenWindowSeconds"/>: what bounds guessing a pairing code.</summary>
    [Range(1, 1_000_000)]
    public int TokenPermitLimit { get; set; } = 20;

    [Range(1, 86_400)]
    public int TokenWindowSeconds { get; set; } = 300;
}

/// <summary>The <c>Cors</c> section: browser origins allowed to call the API; none by default.</summary>
public sealed class CorsOptions
{
    public const string Section = "Cors";

    public string[] AllowedOrigins { get; set; } = [];
}

public static class AbuseSetup
{
    /// <summary>The rate-limiting policy of the token endpoint.</summary>
    public const string TokenPolicy = "token";

    public static IServiceCollection AddOutcomesAbuseProtection(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var limits = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                !DataPaths.Contains(http.Request.Path)
                    ? RateLimitPartition.GetNoLimiter("unlimited")
                    : RateLimitPartition.GetFixedWindowLimiter(ClientKey(http), _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = limits.PermitLimit,
                        Window = TimeSpan.FromSeconds(limits.WindowSeconds),
                        QueueLimit = 0,
                    }));
            // The token endpoint is anonymous and takes guesses at pairing codes: a tighter limit, per address.
            options.AddPolicy(TokenPolicy, http => RateLimitPartition.GetFixedWindowLimiter($"ip:{http.Connection.RemoteIpAddress}",
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.TokenPermitLimit,
                    Window = TimeSpan.FromSeconds(limits.TokenWindowSeconds),
                    QueueLimit = 0,
                }));
            options.OnRejected = async (context, ct) =>
            {
                var http = context.HttpContext;
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(limits.WindowSeconds);
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Type = "https://www.rfc-editor.org/rfc/rfc6585#section-4",
                        Title = "Too many requests",
                        Detail = "This client has sent too many requests; retry after the time in Retry-After.",
                    },
                });
            };
        });

        var origins = configuration.GetSection(CorsOptions.Section).Get<CorsOptions>()?.AllowedOrigins ?? [];
        services.AddCors(options => options.AddDefaultPolicy(policy =>
        {
            if (origins.Length > 0)
            {
                policy.WithOrigins(origins).WithHeaders("Authorization", "Content-Type").WithMethods("GET", "POST");
            }
        }));
        return services;
    }

    /// <summary>The caller's token subject when authenticated, otherwise its address.</summary>
    private static string ClientKey(HttpContext http) =>
        http.User.Identity?.IsAuthenticated == true && http.User.FindFirst(OutcomesClaims.Subject)?.Value is { } subject
            ? $"sub:{subject}"
            : $"ip:{http.Connection.RemoteIpAddress}";
}
