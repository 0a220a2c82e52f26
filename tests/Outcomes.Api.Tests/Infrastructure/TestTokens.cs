using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Outcomes.Api.Tests.Infrastructure;

/// <summary>Signs the tests' own JWTs with a key configured the way <c>dotnet user-jwts</c> does it.</summary>
public sealed class TestTokens
{
    public const string Issuer = "outcomes-test";
    public const string Audience = "outcomes-api";

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Authentication:Schemes:Bearer:ValidIssuer"] = Issuer,
        ["Authentication:Schemes:Bearer:ValidAudiences:0"] = Audience,
        ["Authentication:Schemes:Bearer:SigningKeys:0:Issuer"] = Issuer,
        ["Authentication:Schemes:Bearer:SigningKeys:0:Value"] = Convert.ToBase64String(_key),
    };

    public string Create(
        string role,
        long? patientId = null,
        long? siteId = null,
        string? subject = null,
        long? practitionerId = null,
        DateTime? notBefore = null,
        DateTime? expires = null,
        string issuer = Issuer,
        string audience = Audience,
        byte[]? signingKey = null)
    {
        var claims = new List<Claim>
        {
            new("sub", subject ?? $"{role}-{Guid.NewGuid():N}"),
            new("role", role),
        };
        if (patientId is { } p)
        {
            claims.Add(new Claim("patient_id", p.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        if (practitionerId is { } pr)
        {
            claims.Add(new Claim("practitioner_id", pr.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        if (siteId is { } s)
        {
            claims.Add(new Claim("site_id", s.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        var now = DateTime.UtcNow;
        var nbf = notBefore ?? now.AddMinutes(-1);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = issuer,
            Audience = audience,
            IssuedAt = nbf,
            NotBefore = nbf,
            Expires = expires ?? now.AddMinutes(30),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(signingKey ?? _key), SecurityAlgorithms.HmacSha256),
        });
    }
}
