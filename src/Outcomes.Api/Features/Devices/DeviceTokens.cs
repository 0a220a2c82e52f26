using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Outcomes.Api.Data;
using Outcomes.Api.Infrastructure;

namespace Outcomes.Api.Features.Devices;

public sealed class DeviceOptions
{
    public const string Section = "Devices";

    /// <summary>Base64 of at least 32 random bytes: signs the access tokens Outcomes issues to paired devices. Pairing is off without it.</summary>
    public string? SigningKey { get; set; }

    /// <summary>The issuer and audience of those tokens.</summary>
    public string Issuer { get; set; } = "outcomes-devices";

    public string Audience { get; set; } = "outcomes-api";

    [Range(1, 24 * 60)]
    public int AccessTokenMinutes { get; set; } = 15;

    [Range(1, 3650)]
    public int RefreshTokenDays { get; set; } = 90;

    [Range(1, 24 * 14)]
    public int PairingCodeHours { get; set; } = 24;

    /// <summary>
    /// A refresh token presented again within this many seconds of its rotation is refused without more (a retry
    /// whose answer was lost); later, it is taken for a stolen token and the device is unpaired.
    /// </summary>
    [Range(0, 3600)]
    public int RefreshReuseGraceSeconds { get; set; } = 60;

    public byte[]? Key => SigningKey is { Length: > 0 } key ? Convert.FromBase64String(key) : null;

    public bool IsEnabled => Key is { Length: >= 32 };
}

/// <summary>Claims of a token Outcomes issued to a paired device, beside the ones every patient token carries.</summary>
public static class DeviceClaims
{
    public const string DeviceId = "device_id";
}

/// <summary>The one-time codes and refresh tokens: random, shown once, stored only as SHA-256 hashes.</summary>
public static class DeviceSecrets
{
    /// <summary>Crockford's base-32: no I, L, O or U, so a code read aloud or typed is not misread.</summary>
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// <summary>Eight characters, 40 bits, shown as <c>ABCD-EFGH</c>.</summary>
    public static string NewPairingCode()
    {
        Span<char> code = stackalloc char[8];
        for (var i = 0; i < code.Length; i++)
        {
            code[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }
        return $"{code[..4]}-{code[4..]}";
    }

    /// <summary>The code as typed, in the form it was issued: case, spaces and dashes do not matter, O is 0, I and L are 1.</summary>
    public static string? NormalisePairingCode(string? typed)
    {
        if (typed is null)
        {
            return null;
        }
        var text = new StringBuilder(8);
        foreach (var c in typed.ToUpperInvariant())
        {
            if (c is '-' or ' ')
            {
                continue;
            }
            var mapped = c switch { 'O' => '0', 'I' or 'L' => '1', _ => c };
            if (!Alphabet.Contains(mapped, StringComparison.Ordinal))
            {
                return null;
            }
            text.Append(mapped);
        }
        return text.Length == 8 ? $"{text.ToString(0, 4)}-{text.ToString(4, 4)}" : null;
    }

    public static string NewRefreshToken() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}

public sealed class DeviceSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string InsertCode { get; } = dialect.InsertReturningId(
        "pairing_code", "patient_id, code_hash, created_at, created_by, expires_at", "@PatientId, @CodeHash, @CreatedAt, @CreatedBy, @ExpiresAt");

    public string CodeByHash { get; } = "SELECT id, patient_id, expires_at, used_at FROM pairing_code WHERE code_hash = @CodeHash;";

    /// <summary>Takes the code: one row only for the first caller, whatever races it.</summary>
    public string UseCode { get; } = "UPDATE pairing_code SET used_at = @Now, device_id = @DeviceId WHERE id = @Id AND used_at IS NULL;";

    public string InsertDevice { get; } = dialect.InsertReturningId("patient_device", "patient_id, name, paired_at", "@PatientId, @Name, @PairedAt");

    public string DevicesOf { get; } = """
        SELECT d.id, d.patient_id, d.name, d.paired_at, d.revoked_at, d.revoked_by, d.revoked_reason,
               (SELECT MAX(t.created_at) FROM device_refresh_token t WHERE t.device_id = d.id) AS last_token_at
        FROM patient_device d WHERE d.patient_id = @PatientId ORDER BY d.id;
        """;

    public string Device { get; } = """
        SELECT d.id, d.patient_id, d.name, d.paired_at, d.revoked_at, d.revoked_by, d.revoked_reason,
               (SELECT MAX(t.created_at) FROM device_refresh_token t WHERE t.device_id = d.id) AS last_token_at
        FROM patient_device d WHERE d.id = @Id;
        """;

    public string IsRevoked { get; } = "SELECT COUNT(*) FROM patient_device WHERE id = @Id AND revoked_at IS NOT NULL;";

    public string Revoke { get; } = """
        UPDATE patient_device SET revoked_at = @Now, revoked_by = @By, revoked_reason = @Reason WHERE id = @Id AND revoked_at IS NULL;
        """;

    public string InsertRefreshToken { get; } = """
        INSERT INTO device_refresh_token (device_id, token_hash, created_at, expires_at) VALUES (@DeviceId, @TokenHash, @CreatedAt, @ExpiresAt);
        """;

    public string RefreshTokenByHash { get; } = """
        SELECT t.id, t.device_id, t.expires_at, t.used_at, d.patient_id, d.revoked_at
        FROM device_refresh_token t INNER JOIN patient_device d ON d.id = t.device_id
        WHERE t.token_hash = @TokenHash;
        """;

    /// <summary>Rotation: the token is spent by the first exchange only.</summary>
    public string UseRefreshToken { get; } = "UPDATE device_refresh_token SET used_at = @Now WHERE id = @Id AND used_at IS NULL;";
}

internal sealed class PairingCodeRow
{
    public long Id { get; init; }
    public long PatientId { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? UsedAt { get; init; }
}

internal sealed class RefreshTokenRow
{
    public long Id { get; init; }
    public long DeviceId { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? UsedAt { get; init; }
    public long PatientId { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
}

internal sealed class DeviceRow
{
    public long Id { get; init; }
    public long PatientId { get; init; }
    public string Name { get; init; } = "";
    public DateTimeOffset PairedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public string? RevokedBy { get; init; }
    public string? RevokedReason { get; init; }
    public DateTimeOffset? LastTokenAt { get; init; }
}

/// <summary>Signs the access tokens of paired devices: the claims of any patient token, so the same policies decide.</summary>
public sealed class DeviceTokenIssuer(IOptions<DeviceOptions> options, TimeProvider clock)
{
    public int AccessTokenSeconds => options.Value.AccessTokenMinutes * 60;

    public string AccessToken(long patientId, long deviceId)
    {
        var o = options.Value;
        var now = clock.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = o.Issuer,
            Audience = o.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(o.AccessTokenMinutes),
            Subject = new ClaimsIdentity(
            [
                new Claim(OutcomesClaims.Subject, $"device-{deviceId.ToString(CultureInfo.InvariantCulture)}"),
                new Claim(OutcomesClaims.Role, Roles.Patient),
                new Claim(OutcomesClaims.PatientId, patientId.ToString(CultureInfo.InvariantCulture)),
                new Claim(DeviceClaims.DeviceId, deviceId.ToString(CultureInfo.InvariantCulture)),
                new Claim(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString("N")),
            ]),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(o.Key), SecurityAlgorithms.HmacSha256),
        });
    }
}

/// <summary>
/// Lets the one bearer scheme accept device tokens beside the identity provider's: Outcomes' key, issuer and audience
/// are added to what is configured, and a token whose device has been unpaired is refused on its next call, with a
/// problem that says so.
/// </summary>
public sealed class DeviceTokenValidation(IOptions<DeviceOptions> devices) : IPostConfigureOptions<JwtBearerOptions>
{
    /// <summary>Where a challenge leaves the words its 401 problem should carry.</summary>
    public const string ChallengeDetailKey = "outcomes.challenge-detail";

    public const string RevokedDetail = "This device was unpaired by the clinic or by you. Ask the clinic for a new pairing code to use it again.";

    public void PostConfigure(string? name, JwtBearerOptions options)
    {
        var o = devices.Value;
        if (name != JwtBearerDefaults.AuthenticationScheme || !o.IsEnabled)
        {
            return;
        }
        var parameters = options.TokenValidationParameters;
        parameters.IssuerSigningKeys = [.. parameters.IssuerSigningKeys ?? [], new SymmetricSecurityKey(o.Key)];
        parameters.ValidIssuers = [.. parameters.ValidIssuers ?? [], .. parameters.ValidIssuer is { } issuer ? [issuer] : Array.Empty<string>(), o.Issuer];
        parameters.ValidAudiences = [.. parameters.ValidAudiences ?? [], .. parameters.ValidAudience is { } audience ? [audience] : Array.Empty<string>(), o.Audience];
        var validated = options.Events?.OnTokenValidated;
        options.Events ??= new JwtBearerEvents();
        options.Events.OnTokenValidated = async context =>
        {
            if (validated is not null)
            {
                await validated(context);
            }
            if (context.Principal?.FindFirst(DeviceClaims.DeviceId)?.Value is { } device
                && long.TryParse(device, NumberStyles.None, CultureInfo.InvariantCulture, out var deviceId))
            {
                var services = context.HttpContext.RequestServices;
                var db = services.GetRequiredService<Database>();
                await using var connection = await db.OpenAsync(context.HttpContext.RequestAborted);
                if (await connection.ExecuteScalarAsync<int>(db.Command(services.GetRequiredService<DeviceSql>().IsRevoked,
                        new { Id = deviceId }, context.HttpContext.RequestAborted)) > 0)
                {
                    context.Fail(new DeviceRevokedException());
                }
            }
        };
        var challenge = options.Events.OnChallenge;
        options.Events.OnChallenge = async context =>
        {
            if (context.AuthenticateFailure is DeviceRevokedException)
            {
                context.Error = "invalid_token";
                context.ErrorDescription = "device_revoked";
                // The problem written for the 401 says it in words (see ServiceSetup's problem details).
                context.HttpContext.Items[ChallengeDetailKey] = RevokedDetail;
            }
            await challenge(context);
        };
    }
}

public sealed class DeviceRevokedException() : SecurityTokenException(DeviceTokenValidation.RevokedDetail);
