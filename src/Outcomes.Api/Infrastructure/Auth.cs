using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;

namespace Outcomes.Api.Infrastructure;

public static class Roles
{
    public const string Patient = "patient";
    public const string Practitioner = "practitioner";
    public const string Auditor = "auditor";
    public const string Admin = "admin";
}

/// <summary>Claims Outcomes reads from a token, besides <c>sub</c> and <c>role</c>.</summary>
public static class OutcomesClaims
{
    public const string Role = "role";
    public const string Subject = "sub";
    public const string PatientId = "patient_id";
    public const string SiteId = "site_id";
    public const string PractitionerId = "practitioner_id";
}

/// <summary>Named authorization policies; each endpoint group states one of them.</summary>
public static class Policies
{
    public const string Admin = "admin";

    /// <summary>Clinic staff who work with one patient's record: practitioners and admins.</summary>
    public const string Clinician = "clinician";

    /// <summary>Anyone who may read one patient's record: the patient, their site's practitioners, admins.</summary>
    public const string PatientRecord = "patient-record";

    /// <summary>Staff who may read reference data such as sites: practitioners, auditors, admins.</summary>
    public const string Staff = "staff";

    /// <summary>De-identified cohort outcomes and the audit trail: auditors and admins.</summary>
    public const string Auditor = "auditor";

    /// <summary>Any authenticated caller of any role (catalogues that hold no personal data).</summary>
    public const string AnyRole = "any-role";
}

/// <summary>The caller, as the token describes them.</summary>
/// <param name="PractitionerId">A practitioner's record (the <c>practitioner_id</c> claim): who they are, not only which site.</param>
public sealed record CurrentUser(string Subject, string Role, long? PatientId, long? SiteId, long? PractitionerId = null)
{
    public bool IsAdmin => Role == Roles.Admin;

    /// <summary>
    /// The site a list may be filtered to: a practitioner's lists are confined to their own site, so
    /// another site's filter (or a token without a site) matches nobody; other roles keep their filter.
    /// </summary>
    public long? ConfineToSite(long? requested) =>
        Role == Roles.Practitioner ? (requested is null || requested == SiteId ? SiteId ?? -1 : -1) : requested;

    public static CurrentUser From(ClaimsPrincipal principal)
    {
        var role = principal.FindAll(OutcomesClaims.Role).Select(c => c.Value)
            .FirstOrDefault(r => r is Roles.Admin or Roles.Auditor or Roles.Practitioner or Roles.Patient) ?? "";
        return new CurrentUser(
            principal.FindFirstValue(OutcomesClaims.Subject) ?? "",
            role,
            ReadId(principal, OutcomesClaims.PatientId),
            ReadId(principal, OutcomesClaims.SiteId),
            role == Roles.Practitioner ? ReadId(principal, OutcomesClaims.PractitionerId) : null);
    }

    private static long? ReadId(ClaimsPrincipal principal, string type) =>
        long.TryParse(principal.FindFirstValue(type), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : null;
}

public static class AuthSetup
{
    /// <summary>
    /// JWT bearer from the standard <c>Authentication:Schemes:Bearer</c> section (so
    /// <c>dotnet user-jwts</c> and a real identity provider both configure it), and a fallback
    /// policy so that an endpoint that states nothing still demands a valid token.
    /// </summary>
    public static IServiceCollection AddOutcomesAuth(this IServiceCollection services)
    {
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(options =>
            {
                // Keep claim names as issued: "role", "sub", "patient_id", "site_id".
                options.MapInboundClaims = false;
                options.TokenValidationParameters.RoleClaimType = OutcomesClaims.Role;
                options.TokenValidationParameters.NameClaimType = OutcomesClaims.Subject;
                options.TokenValidationParameters.ClockSkew = TimeSpan.FromSeconds(30);
            });

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin))
            .AddPolicy(Policies.Clinician, p => p.RequireRole(Roles.Practitioner, Roles.Admin))
            .AddPolicy(Policies.PatientRecord, p => p.RequireRole(Roles.Patient, Roles.Practitioner, Roles.Admin))
            .AddPolicy(Policies.Auditor, p => p.RequireRole(Roles.Auditor, Roles.Admin))
            .AddPolicy(Policies.Staff, p => p.RequireRole(Roles.Practitioner, Roles.Auditor, Roles.Admin))
            .AddPolicy(Policies.AnyRole, p => p.RequireRole(Roles.Patient, Roles.Practitioner, Roles.Auditor, Roles.Admin));
        return services;
    }
}
