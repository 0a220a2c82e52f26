using System.Data;
using Dapper;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Infrastructure;

namespace Outcomes.Api.Features.Patients;

public sealed class PatientAccessSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string SiteOfPatient { get; } = "SELECT site_id FROM patient WHERE id = @Id;";
}

/// <summary>
/// The one place that decides whether a caller may see a patient. A patient sees only their own
/// record, a practitioner only the patients of their site, an admin all; anything else looks
/// exactly like a patient that does not exist, so ids cannot be probed.
/// </summary>
public sealed class PatientAccess(Database database, PatientAccessSql sql, AuditLog audit)
{
    /// <summary>The patient's site when <paramref name="user"/> may see the patient; otherwise null.</summary>
    public async Task<long?> SiteIfVisibleAsync(
        IDbConnection connection, CurrentUser user, long patientId, CancellationToken ct, IDbTransaction? transaction = null)
    {
        var siteId = await connection.ExecuteScalarAsync<long?>(
            database.Command(sql.SiteOfPatient, new { Id = patientId }, ct, transaction));
        return siteId is { } site && MayAccess(user, patientId, site) ? site : null;
    }

    /// <summary>
    /// The patient's site when <paramref name="user"/> may see the patient; otherwise null, and the
    /// refused (or unknown) patient id is recorded in the audit trail.
    /// </summary>
    public async Task<long?> SiteOrRefuseAsync(
        IDbConnection connection, CurrentUser user, long patientId, string action, string resourceType, CancellationToken ct)
    {
        if (await SiteIfVisibleAsync(connection, user, patientId, ct) is { } site)
        {
            return site;
        }
        await audit.AppendAsync(connection, action, resourceType, patientId, patientId, ct, outcome: AuditOutcomes.NotFound);
        return null;
    }

    public static bool MayAccess(CurrentUser user, long patientId, long patientSiteId) => user.Role switch
    {
        Roles.Admin => true,
        Roles.Practitioner => user.SiteId == patientSiteId,
        Roles.Patient => user.PatientId == patientId,
        _ => false,
    };
}
