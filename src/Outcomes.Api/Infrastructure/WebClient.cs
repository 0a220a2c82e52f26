using Microsoft.Extensions.FileProviders;

namespace Outcomes.Api.Infrastructure;

public sealed class WebClientOptions
{
    public const string Section = "WebClient";

    /// <summary>The built web client (Vite's <c>dist</c>); found next to the service when not set.</summary>
    public string? Path { get; set; }

    /// <summary>The clinic's OpenID provider, for staff sign-in in the web client (authorization code with PKCE).</summary>
    public OidcClientOptions? Oidc { get; set; }
}

/// <summary>The web client's registration at the clinic's OpenID provider.</summary>
public sealed class OidcClientOptions
{
    /// <summary>The provider's issuer URL; its metadata is read from there.</summary>
    public string? Authority { get; set; }

    /// <summary>The web client's public client id at the provider.</summary>
    public string? ClientId { get; set; }

    /// <summary>Scopes asked for; the access token must carry the role, site and practitioner claims the API reads.</summary>
    public string Scope { get; set; } = "openid";

    /// <summary>A resource indicator (RFC 8707), where the provider issues access tokens per resource.</summary>
    public string? Resource { get; set; }

    public bool IsConfigured => Authority is { Length: > 0 } && ClientId is { Length: > 0 };

    /// <summary>The provider's origin, which the client's Content-Security-Policy lets it call.</summary>
    public string? Origin => Uri.TryCreate(Authority, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : null;
}

/// <summary>
/// Serves the web client at <c>/app</c>, from the same origin as the API (no CORS). Hashed assets are cached for a
/// year; the page and the service worker never. Where the client has not been built, <c>/app</c> answers a page that
/// says how to build it.
/// </summary>
public static class WebClient
{
    public const string PathPrefix = "/app";

    /// <summary>The client's files: the configured path, a published service's <c>wwwroot/app</c>, or <c>src/Outcomes.Web/dist</c> in the checkout.</summary>
    public static string? Locate(string? configured, string contentRoot)
    {
        if (configured is { Length: > 0 })
        {
            return File.Exists(System.IO.Path.Combine(configured, "index.html")) ? System.IO.Path.GetFullPath(configured) : null;
        }
        var published = System.IO.Path.Combine(contentRoot, "wwwroot", "app");
        if (File.Exists(System.IO.Path.Combine(published, "index.html")))
        {
            return published;
        }
        for (var directory = new DirectoryInfo(contentRoot); directory is not null; directory = directory.Parent)
        {
            var dist = System.IO.Path.Combine(directory.FullName, "src", "Outcomes.Web", "dist");
            if (File.Exists(System.IO.Path.Combine(dist, "index.html")))
            {
                return dist;
            }
        }
        return null;
    }

    public static WebApplication UseWebClient(this WebApplication app)
    {
        var root = Locate(app.Configuration[$"{WebClientOptions.Section}:Path"], app.Environment.ContentRootPath);
        if (root is not null)
        {
            app.UseStaticFiles(new StaticFileOptions
            {
                RequestPath = PathPrefix,
                FileProvider = new PhysicalFileProvider(root),
                OnPrepareResponse = context =>
                {
                    context.Context.Response.Headers.CacheControl = context.File.PhysicalPath?.Contains($"{System.IO.Path.DirectorySeparatorChar}assets{System.IO.Path.DirectorySeparatorChar}", StringComparison.Ordinal) == true
                        ? "public, max-age=31536000, immutable"
                        : "no-cache";
                },
            });
        }
        return app;
    }

    public static void MapWebClient(this WebApplication app)
    {
        var root = Locate(app.Configuration[$"{WebClientOptions.Section}:Path"], app.Environment.ContentRootPath);
        // What the client needs to know at run time: the staff sign-in's provider (null: staff sign-in is off).
        app.MapGet($"{PathPrefix}/config.json", (Microsoft.Extensions.Options.IOptions<WebClientOptions> options) =>
        {
            var oidc = options.Value.Oidc;
            return Results.Json(new
            {
                oidc = oidc is { IsConfigured: true } ? new { authority = oidc.Authority, clientId = oidc.ClientId, scope = oidc.Scope, resource = oidc.Resource } : null,
            });
        }).AllowAnonymous().ExcludeFromDescription();
        app.MapGet($"{PathPrefix}/{{**path}}", (HttpContext http) =>
        {
            if (http.Request.Path.Value == PathPrefix)
            {
                // The client's service worker is scoped to /app/: the page is always served there.
                return Results.Redirect($"{PathPrefix}/");
            }
            http.Response.Headers.CacheControl = "no-cache";
            return root is not null
                ? Results.File(System.IO.Path.Combine(root, "index.html"), "text/html; charset=utf-8")
                : Results.Content(NotBuiltPage, "text/html; charset=utf-8");
        }).AllowAnonymous().ExcludeFromDescription();
    }

    /// <summary>What <c>/app</c> says when the client was not built: how to build it.</summary>
    public const string NotBuiltPage = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Outcomes web client: not built</title></head>
        <body>
        <h1>The web client is not built</h1>
        <p>This service serves the patient check-in at <code>/app</code> once it has been built. With Node.js 20 and npm:</p>
        <pre>cd src/Outcomes.Web
        npm ci
        npm run build</pre>
        <p>then restart the service (or set <code>WebClient:Path</code> to a built copy). A Release <code>dotnet publish</code> builds it for you.
        The API itself is unaffected: see <a href="/swagger">/swagger</a>.</p>
        </body></html>
        """;
}
