using System.ComponentModel;
using System.Text.Json.Serialization;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Infrastructure;
using QRCoder;

namespace Outcomes.Api.Features.Devices;

/// <summary>A one-time code that pairs a patient's phone, shown once.</summary>
/// <param name="Code">Eight characters, e.g. <c>7KQ4-M2XD</c>: typed on the phone, or carried by the link.</param>
/// <param name="ExpiresAt">After this the code pairs nothing.</param>
/// <param name="PairingLink">The link the QR code holds: the web client's pairing page with the code.</param>
/// <param name="QrCodeSvg">The pairing link as a QR code, an SVG image.</param>
public sealed record PairingCodeResponse(string Code, long PatientId, DateTimeOffset ExpiresAt, string PairingLink, string QrCodeSvg);

/// <param name="RevokedBy">Who unpaired it: a practitioner's or admin's subject, the patient, or <c>system</c> (a reused refresh token).</param>
/// <param name="LastTokenAt">When the device last received tokens (paired or refreshed).</param>
public sealed record DeviceResponse(
    long Id, long PatientId, string Name, DateTimeOffset PairedAt, DateTimeOffset? RevokedAt, string? RevokedBy, string? RevokedReason, DateTimeOffset? LastTokenAt);

/// <param name="Reason">Why the device is unpaired (lost phone, ...), at most 200 characters; optional.</param>
public sealed record DeviceRevocationRequest(string? Reason = null);

/// <summary>RFC 6749's successful token response (§5.1).</summary>
public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("refresh_token")] string RefreshToken,
    [property: JsonPropertyName("patient_id")] long PatientId);

/// <summary>RFC 6749's error response (§5.2).</summary>
public sealed record TokenError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string ErrorDescription);

/// <summary>The token endpoint's form fields (application/x-www-form-urlencoded).</summary>
/// <param name="GrantType"><c>urn:outcomes:oauth:grant-type:pairing-code</c> with <c>code</c>, or <c>refresh_token</c> with <c>refresh_token</c>.</param>
/// <param name="DeviceName">With a pairing code: what the patient calls the device, at most 100 characters.</param>
public sealed record TokenForm(
    [property: JsonPropertyName("grant_type")] string GrantType,
    [property: JsonPropertyName("code")] string? Code = null,
    [property: JsonPropertyName("device_name")] string? DeviceName = null,
    [property: JsonPropertyName("refresh_token")] string? RefreshToken = null);

/// <summary>RFC 7009's revocation request: the refresh token to revoke (and with it the device it belongs to).</summary>
public sealed record RevocationForm(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("token_type_hint")] string? TokenTypeHint = null);

/// <summary>
/// Patient devices are paired, not given passwords: a practitioner makes a one-time code (and its QR code) for a
/// patient; the phone exchanges it at the token endpoint for a short-lived access token and a refresh token bound
/// to that device, which rotates at every use. A practitioner, an admin or the patient unpairs a device; its next
/// call is refused and says so.
/// </summary>
public static class DevicesApi
{
    public const string PairingGrant = "urn:outcomes:oauth:grant-type:pairing-code";
    private const string Resource = "patient_device";

    public static void MapDevices(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/patients/{patientId:long}/pairing-codes", CreatePairingCode)
            .RequireAuthorization(Policies.Clinician)
            .WithTags("Devices")
            .WithName("CreatePairingCode")
            .WithSummary("Make a one-time code that pairs a patient's phone")
            .WithDescription("Practitioners of the patient's site and admins. The code and its QR code are shown once (only a hash is kept); "
                + "it pairs one device, within Devices:PairingCodeHours (default 24). Audited.");

        var devices = app.MapGroup("/api/v1/patients/{patientId:long}/devices").WithTags("Devices").RequireAuthorization(Policies.PatientRecord);
        devices.MapGet("", ListDevices)
            .WithName("ListDevices")
            .WithSummary("A patient's paired devices, current and unpaired")
            .WithDescription("The patient, practitioners of the patient's site, and admins.");
        devices.MapPost("/{deviceId:long}/revocation", RevokeDevice)
            .WithName("RevokeDevice")
            .WithSummary("Unpair a device")
            .WithDescription("The patient, practitioners of the patient's site, and admins. The device's tokens stop working at once: its next call "
                + "is refused with 401 and says that it was unpaired. Unpairing an unpaired device answers 200 with it as it is. Audited.");

        var oauth = app.MapGroup("/api/v1/oauth").WithTags("Devices").RequireRateLimiting(AbuseSetup.TokenPolicy);
        oauth.MapPost("/token", Token)
            .AllowAnonymous()
            .AddOpenApiOperationTransformer((operation, context, ct) => FormBody<TokenForm>(operation, context, ct))
            .Produces<TokenResponse>(StatusCodes.Status200OK)
            .Produces<TokenError>(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithName("IssueDeviceToken")
            .WithSummary("Exchange a pairing code, or a refresh token, for tokens (OAuth 2.0 token endpoint)")
            .WithDescription("Anyone: the code or the refresh token is the credential. RFC 6749 form and answers; the refresh token rotates (RFC 6749 "
                + "§10.4): each is good once, and one presented again after Devices:RefreshReuseGraceSeconds unpairs the device. "
                + "Rate limited per address (RateLimiting:TokenPermitLimit per RateLimiting:TokenWindowSeconds).");
        oauth.MapPost("/revoke", Revoke)
            .AllowAnonymous()
            .AddOpenApiOperationTransformer((operation, context, ct) => FormBody<RevocationForm>(operation, context, ct))
            .Produces(StatusCodes.Status200OK)
            .Produces<TokenError>(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithName("RevokeDeviceToken")
            .WithSummary("Revoke a refresh token, and so its device (OAuth 2.0 token revocation)")
            .WithDescription("Anyone: the token is the credential. RFC 7009: answers 200 whether or not the token was known.");
    }

    public static async Task<Results<Created<PairingCodeResponse>, NotFoundProblem, ProblemHttpResult>> CreatePairingCode(
        [Description("The patient's id.")] long patientId,
        HttpContext http, Database db, DeviceSql sql, PatientAccess access, AuditLog audit, GroupCommit commits, IOptions<DeviceOptions> options,
        TimeProvider clock, CancellationToken ct)
    {
        if (!options.Value.IsEnabled)
        {
            return NotConfigured();
        }
        var user = CurrentUser.From(http.User);
        await using (var connection = await db.OpenAsync(ct))
        {
            if (await access.SiteOrRefuseAsync(connection, user, patientId, AuditActions.Create, "pairing_code", ct) is null)
            {
                return Problems.NotFound("patient");
            }
        }
        var code = DeviceSecrets.NewPairingCode();
        var now = clock.GetUtcNow();
        var expires = now.AddHours(options.Value.PairingCodeHours);
        await commits.RunAsync(async (c, tx) =>
        {
            var id = await c.ExecuteScalarAsync<long>(db.Command(sql.InsertCode, new
            {
                PatientId = patientId, CodeHash = DeviceSecrets.Hash(code), CreatedAt = now, CreatedBy = user.Subject, ExpiresAt = expires,
            }, CancellationToken.None, tx));
            await audit.InsertAsync(c, tx, audit.Entry(AuditActions.Create, "pairing_code", id, patientId), CancellationToken.None);
            return id;
        }, ct);
        var link = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/app/#/pair?code={Uri.EscapeDataString(code)}";
        using var qr = QRCodeGenerator.GenerateQrCode(link, QRCodeGenerator.ECCLevel.M);
        var svg = new SvgQRCode(qr).GetGraphic(4);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"/api/v1/patients/{patientId}/devices", new PairingCodeResponse(code, patientId, expires, link, svg));
    }

    public static async Task<Results<Ok<IReadOnlyList<DeviceResponse>>, NotFoundProblem>> ListDevices(
        [Description("The patient's id.")] long patientId,
        HttpContext http, Database db, DeviceSql sql, PatientAccess access, AuditLog audit, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, CurrentUser.From(http.User), patientId, AuditActions.List, Resource, ct) is null)
        {
            return Problems.NotFound("patient");
        }
        var rows = await connection.QueryAsync<DeviceRow>(db.Command(sql.DevicesOf, new { PatientId = patientId }, ct));
        await audit.AppendAsync(connection, AuditActions.List, Resource, null, patientId, ct);
        return TypedResults.Ok<IReadOnlyList<DeviceResponse>>([.. rows.Select(ToResponse)]);
    }

    public static async Task<Results<Ok<DeviceResponse>, NotFoundProblem, ValidationProblem>> RevokeDevice(
        [Description("The patient's id.")] long patientId,
        [Description("The device's id.")] long deviceId,
        DeviceRevocationRequest request,
        HttpContext http, Database db, DeviceSql sql, PatientAccess access, AuditLog audit, GroupCommit commits, TimeProvider clock, CancellationToken ct)
    {
        var user = CurrentUser.From(http.User);
        DeviceRow? device;
        await using (var connection = await db.OpenAsync(ct))
        {
            if (await access.SiteOrRefuseAsync(connection, user, patientId, "revoke", Resource, ct) is null)
            {
                return Problems.NotFound("patient");
            }
            device = await connection.QuerySingleOrDefaultAsync<DeviceRow>(db.Command(sql.Device, new { Id = deviceId }, ct));
        }
        var errors = new Core.Validation.ValidationErrors();
        if (request.Reason is not null)
        {
            errors.Text(request.Reason, "reason", 200);
        }
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        if (device is null || device.PatientId != patientId)
        {
            return Problems.NotFound("device");
        }
        await UnpairAsync(db, sql, audit, commits, deviceId, patientId, clock.GetUtcNow(), user.Role == Roles.Patient ? "patient" : user.Subject, request.Reason, null, ct);
        await using (var connection = await db.OpenAsync(ct))
        {
            device = await connection.QuerySingleAsync<DeviceRow>(db.Command(sql.Device, new { Id = deviceId }, ct));
        }
        return TypedResults.Ok(ToResponse(device));
    }

    public static async Task<IResult> Token(
        HttpContext http, Database db, DeviceSql sql, AuditLog audit, GroupCommit commits, DeviceTokenIssuer issuer, IOptions<DeviceOptions> options,
        TimeProvider clock, CancellationToken ct)
    {
        if (!options.Value.IsEnabled)
        {
            return NotConfigured();
        }
        // RFC 6749 §5.1: token responses are never cached.
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Pragma = "no-cache";
        if (!http.Request.HasFormContentType)
        {
            return Error("invalid_request", "Send the request as application/x-www-form-urlencoded.");
        }
        var form = await http.Request.ReadFormAsync(ct);
        var now = clock.GetUtcNow();
        var o = options.Value;
        switch (form["grant_type"].ToString())
        {
            case PairingGrant:
            {
                var code = DeviceSecrets.NormalisePairingCode(form["code"].ToString());
                var name = form["device_name"].ToString() is { Length: > 0 } given ? given.Trim() : "Paired device";
                if (name.Length > 100 || name.Any(char.IsControl))
                {
                    return Error("invalid_request", "device_name must be at most 100 characters, without control characters.");
                }
                PairingCodeRow? row = null;
                if (code is not null)
                {
                    await using var connection = await db.OpenAsync(ct);
                    row = await connection.QuerySingleOrDefaultAsync<PairingCodeRow>(db.Command(sql.CodeByHash, new { CodeHash = DeviceSecrets.Hash(code) }, ct));
                }
                if (row is null || row.UsedAt is not null || row.ExpiresAt <= now)
                {
                    await AuditRefusalAsync(db, audit, "pair_device", row?.PatientId, ct);
                    return Error("invalid_grant", "The pairing code is not valid: it may be mistyped, used already or expired. Ask the clinic for a new one.");
                }
                var refresh = DeviceSecrets.NewRefreshToken();
                var deviceId = await commits.RunAsync(async (c, tx) =>
                {
                    var id = await c.ExecuteScalarAsync<long>(db.Command(sql.InsertDevice, new { row.PatientId, Name = name, PairedAt = now }, CancellationToken.None, tx));
                    if (await c.ExecuteAsync(db.Command(sql.UseCode, new { row.Id, Now = now, DeviceId = id }, CancellationToken.None, tx)) == 0)
                    {
                        return 0L; // another exchange of the same code won; this one pairs nothing
                    }
                    await c.ExecuteAsync(db.Command(sql.InsertRefreshToken, new
                    {
                        DeviceId = id, TokenHash = DeviceSecrets.Hash(refresh), CreatedAt = now, ExpiresAt = now.AddDays(o.RefreshTokenDays),
                    }, CancellationToken.None, tx));
                    await audit.InsertAsync(c, tx, audit.Entry("pair_device", Resource, id, row.PatientId), CancellationToken.None);
                    return id;
                }, ct);
                if (deviceId == 0)
                {
                    return Error("invalid_grant", "The pairing code has just been used.");
                }
                return Results.Json(new TokenResponse(issuer.AccessToken(row.PatientId, deviceId), "Bearer", issuer.AccessTokenSeconds, refresh, row.PatientId));
            }
            case "refresh_token":
            {
                var presented = form["refresh_token"].ToString();
                RefreshTokenRow? token = null;
                if (presented.Length > 0)
                {
                    await using var connection = await db.OpenAsync(ct);
                    token = await connection.QuerySingleOrDefaultAsync<RefreshTokenRow>(db.Command(sql.RefreshTokenByHash, new { TokenHash = DeviceSecrets.Hash(presented) }, ct));
                }
                if (token is null || token.ExpiresAt <= now)
                {
                    return Error("invalid_grant", "The refresh token is not valid. Pair the device again.");
                }
                if (token.RevokedAt is not null)
                {
                    return Error("invalid_grant", DeviceTokenValidation.RevokedDetail);
                }
                if (token.UsedAt is { } used)
                {
                    if (now - used > TimeSpan.FromSeconds(o.RefreshReuseGraceSeconds))
                    {
                        // A spent token presented again, long after: taken as stolen (RFC 6819 §5.2.2.3). The device is unpaired.
                        await UnpairAsync(db, sql, audit, commits, token.DeviceId, token.PatientId, now, "system", "a spent refresh token was used again",
                            "refresh token reused", ct);
                    }
                    return Error("invalid_grant", "The refresh token has been used already.");
                }
                var next = DeviceSecrets.NewRefreshToken();
                var rotated = await commits.RunAsync(async (c, tx) =>
                {
                    if (await c.ExecuteAsync(db.Command(sql.UseRefreshToken, new { token.Id, Now = now }, CancellationToken.None, tx)) == 0)
                    {
                        return false;
                    }
                    await c.ExecuteAsync(db.Command(sql.InsertRefreshToken, new
                    {
                        token.DeviceId, TokenHash = DeviceSecrets.Hash(next), CreatedAt = now, ExpiresAt = now.AddDays(o.RefreshTokenDays),
                    }, CancellationToken.None, tx));
                    return true;
                }, ct);
                return rotated
                    ? Results.Json(new TokenResponse(issuer.AccessToken(token.PatientId, token.DeviceId), "Bearer", issuer.AccessTokenSeconds, next, token.PatientId))
                    : Error("invalid_grant", "The refresh token has been used already.");
            }
            default:
                return Error("unsupported_grant_type", $"grant_type must be {PairingGrant} or refresh_token.");
        }
    }

    public static async Task<IResult> Revoke(
        HttpContext http, Database db, DeviceSql sql, AuditLog audit, GroupCommit commits, TimeProvider clock, CancellationToken ct)
    {
        if (!http.Request.HasFormContentType)
        {
            return Error("invalid_request", "Send the request as application/x-www-form-urlencoded.");
        }
        var form = await http.Request.ReadFormAsync(ct);
        var presented = form["token"].ToString();
        if (presented.Length == 0)
        {
            return Error("invalid_request", "token is required.");
        }
        RefreshTokenRow? token;
        await using (var connection = await db.OpenAsync(ct))
        {
            token = await connection.QuerySingleOrDefaultAsync<RefreshTokenRow>(db.Command(sql.RefreshTokenByHash, new { TokenHash = DeviceSecrets.Hash(presented) }, ct));
        }
        if (token is { RevokedAt: null })
        {
            await UnpairAsync(db, sql, audit, commits, token.DeviceId, token.PatientId, clock.GetUtcNow(), "patient", "signed out on the device", "token revocation", ct);
        }
        // RFC 7009 §2.2: 200 whether or not the token was known, so that it tells an attacker nothing.
        return Results.Ok();
    }

    /// <summary>
    /// Documents a form body. (Not <c>Accepts</c>: that would make routing answer another media type with its own 415,
    /// before the endpoint, instead of OAuth's invalid_request.)
    /// </summary>
    private static async Task FormBody<T>(Microsoft.OpenApi.OpenApiOperation operation, Microsoft.AspNetCore.OpenApi.OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        operation.RequestBody = new Microsoft.OpenApi.OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, Microsoft.OpenApi.OpenApiMediaType>
            {
                ["application/x-www-form-urlencoded"] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(T), null, ct) },
            },
        };
    }

    /// <summary>Unpairs a device and audits it, in one transaction; a device already unpaired is left as it is (and not audited again).</summary>
    private static Task<int> UnpairAsync(
        Database db, DeviceSql sql, AuditLog audit, GroupCommit commits, long deviceId, long patientId, DateTimeOffset now, string by, string? reason,
        string? detail, CancellationToken ct) =>
        commits.RunAsync(async (c, tx) =>
        {
            var changed = await c.ExecuteAsync(db.Command(sql.Revoke, new { Id = deviceId, Now = now, By = by, Reason = reason }, CancellationToken.None, tx));
            if (changed > 0)
            {
                await audit.InsertAsync(c, tx, audit.Entry("revoke", Resource, deviceId, patientId, detail: detail), CancellationToken.None);
            }
            return changed;
        }, ct);

    private static async Task AuditRefusalAsync(Database db, AuditLog audit, string action, long? patientId, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await audit.AppendAsync(connection, action, Resource, null, patientId, ct, outcome: "denied");
    }

    private static JsonHttpResult<TokenError> Error(string error, string description) =>
        TypedResults.Json(new TokenError(error, description), statusCode: StatusCodes.Status400BadRequest);

    private static ProblemHttpResult NotConfigured() => TypedResults.Problem(
        statusCode: StatusCodes.Status503ServiceUnavailable, title: "Pairing not configured",
        detail: "Set Devices:SigningKey (base64 of at least 32 random bytes) to pair patient devices.");

    private static DeviceResponse ToResponse(DeviceRow d) =>
        new(d.Id, d.PatientId, d.Name, d.PairedAt, d.RevokedAt, d.RevokedBy, d.RevokedReason, d.LastTokenAt);
}
