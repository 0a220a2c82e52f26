using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Features.TreatmentSessions;

/// <summary>
/// The one write path of treatment sessions: a new session, a correction (a new version that
/// supersedes the current one) and a withdrawal (a version marked entered-in-error). Access, the
/// session's rules (enrolment, the practitioner's site, dose plausibility), idempotency by
/// submission id (a unique index settles a race), one correction per version (a unique index on
/// <c>supersedes_id</c>) and the audit event, in one transaction.
/// </summary>
public sealed class SessionWriter(Database db, TreatmentSessionSql sql, PatientAccess access, AuditLog audit, TimeProvider clock)
{
    private const string Resource = "treatment_session";

    /// <param name="request">For an entered-in-error mark, only its submission id: the mark repeats the session it
    /// withdraws (without sites), so that every version reads as a whole session.</param>
    public async Task<Results<Created<TreatmentSessionResponse>, Ok<TreatmentSessionResponse>, ValidationProblem, NotFoundProblem, ConflictProblem>> WriteAsync(
        HttpContext http, long patientId, CreateTreatmentSessionRequest request, long? amends, string? reason, bool enteredInError,
        CancellationToken ct)
    {
        var user = CurrentUser.From(http.User);
        var action = enteredInError ? "mark_entered_in_error" : amends is null ? AuditActions.Create : "amend";
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, user, patientId, action, Resource, ct) is not { } patientSite)
        {
            return Problems.NotFound("patient");
        }

        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        ValidationErrors errors;
        if (enteredInError)
        {
            errors = new ValidationErrors();
            SubmissionValidation.SubmissionId(errors, request.SubmissionId);
        }
        else
        {
            errors = TreatmentSessionsApi.Validate(request, today);
        }
        if (amends is not null)
        {
            SubmissionValidation.Reason(errors, reason);
        }
        if (!enteredInError && user.Role == Roles.Practitioner)
        {
            // A session names the person who injected: a practitioner is the one their sign-in names.
            if (user.PractitionerId is null)
            {
                errors.Add("practitionerId", "your sign-in names no practitioner record (the practitioner_id claim); an admin links it, or records the session");
            }
            else
            {
                errors.Check(request.PractitionerId is null || request.PractitionerId == user.PractitionerId, "practitionerId",
                    "a practitioner records their own sessions; an admin may record one on another's behalf");
            }
        }
        if (!enteredInError && request.PractitionerId is { } practitionerId)
        {
            var practitionerSite = await connection.ExecuteScalarAsync<long?>(db.Command(sql.PractitionerSite, new { Id = practitionerId }, ct));
            errors.Check(practitionerSite == patientSite, "practitionerId", "no such practitioner at the patient's site");
        }
        if (!enteredInError && request.SessionDate is { } date)
        {
            var enrolledOn = await connection.ExecuteScalarAsync<DateOnly>(db.Command(sql.EnrolledOn, new { Id = patientId }, ct));
            errors.Check(date >= enrolledOn, "sessionDate", $"is before the patient's enrolment on {enrolledOn.ToString("O", CultureInfo.InvariantCulture)}");
        }

        SessionRow? target = null;
        if (amends is { } id)
        {
            target = await connection.QuerySingleOrDefaultAsync<SessionRow>(db.Command(sql.ById, new { Id = id, PatientId = patientId }, ct));
            if (target is null)
            {
                return Problems.NotFound(Resource.Replace('_', ' '));
            }
        }
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        if (enteredInError)
        {
            request = request with
            {
                SessionDate = target!.SessionDate,
                PractitionerId = target.PractitionerId,
                Product = EnumCode<Product>.Parse(target.Product),
                Guidance = EnumCode<Guidance>.Parse(target.Guidance),
                DilutionUnitsPerMl = target.DilutionUnitsPerMl,
                InjectionSites = [],
            };
        }

        var sites = (request.InjectionSites ?? []).Select(s => new InjectionSite(s!.Muscle!, s.Side!.Value, s.Units!.Value)).ToList();
        var total = enteredInError ? target!.TotalUnits : SessionRules.TotalUnits(sites);
        var submissionId = request.SubmissionId!.Value.ToString("D");
        var hash = PayloadHash(request, sites, amends, reason, enteredInError);

        // A retry finds its first attempt before the "already corrected" check would refuse it.
        if (await ReplayAsync(connection, patientId, submissionId, hash, ct) is { } replay)
        {
            return replay;
        }
        if (target is not null && !target.IsCurrent)
        {
            return Problems.Conflict($"Session {amends} is not the current version of its record; correct the current version instead.");
        }
        if (!enteredInError && await DoseProblemsAsync(connection, patientId, request, sites, total, target, ct) is { IsEmpty: false } doses)
        {
            return Problems.Invalid(doses);
        }

        var now = clock.GetUtcNow();
        long newId;
        using (await db.EnterWriteAsync(connection, ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            try
            {
                newId = await connection.ExecuteScalarAsync<long>(db.Command(sql.Insert, new
                {
                    PatientId = patientId,
                    request.PractitionerId,
                    request.SessionDate,
                    Product = EnumCode<Product>.Of(request.Product!.Value),
                    Guidance = EnumCode<Guidance>.Of(request.Guidance!.Value),
                    request.DilutionUnitsPerMl,
                    TotalUnits = total,
                    CreatedAt = now,
                    CreatedBy = user.Subject,
                    SubmissionId = submissionId,
                    PayloadHash = hash,
                    SupersedesId = amends,
                    RootId = target is null ? (long?)null : target.RootId ?? target.Id,
                    EnteredInError = enteredInError,
                    ChangeReason = reason,
                    HighDoseReason = request.HighDoseConfirmed == true ? request.HighDoseReason : null,
                }, ct, tx));
            }
            catch (DbException e) when (db.Dialect.IsUniqueViolation(e))
            {
                // Either the same submission won a race, or another correction of the same version did.
                await tx.RollbackAsync(ct);
                return await ReplayAsync(connection, patientId, submissionId, hash, ct)
                    ?? Problems.Conflict($"Session {amends} was corrected by another request at the same time; correct the current version instead.");
            }
            await connection.ExecuteAsync(db.Command(sql.InsertSite, sites.Select(s => new
            {
                SessionId = newId,
                s.Muscle,
                Side = EnumCode<BodySide>.Of(s.Side),
                s.Units,
            }), ct, tx));
            await audit.AppendAsync(connection, action, Resource, newId, patientId, ct, tx);
            await tx.CommitAsync(ct);
        }

        var stored = await connection.QuerySingleAsync<SessionRow>(db.Command(sql.ById, new { Id = newId, PatientId = patientId }, ct));
        return TypedResults.Created($"/api/v1/patients/{patientId}/treatment-sessions/{newId}",
            TreatmentSessionsApi.ToResponse(stored, [.. sites.Select(s => new InjectionSiteResponse(s.Muscle, s.Side, s.Units))]));
    }

    /// <summary>
    /// Doses above the product's plausibility ceiling (<see cref="SessionRules.CeilingOf"/>): at one
    /// site, or with the patient's other current sessions of the product within 12 weeks either side.
    /// Allowed when the request confirms them with a reason, which is stored with the session.
    /// </summary>
    private async Task<ValidationErrors> DoseProblemsAsync(
        DbConnection connection, long patientId, CreateTreatmentSessionRequest request, List<InjectionSite> sites, decimal total,
        SessionRow? corrected, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var product = request.Product!.Value;
        var ceiling = SessionRules.CeilingOf(product);
        var code = EnumCode<Product>.Of(product);
        var date = request.SessionDate!.Value;
        var around = await connection.ExecuteScalarAsync<decimal>(db.Command(sql.UnitsBetween, new
        {
            PatientId = patientId,
            Product = code,
            From = date.AddDays(-SessionRules.CumulativeWindowDays),
            To = date.AddDays(SessionRules.CumulativeWindowDays),
            RecordId = corrected is null ? 0 : corrected.RootId ?? corrected.Id,
        }, ct));
        var high = new ValidationErrors();
        for (var i = 0; i < sites.Count; i++)
        {
            high.Check(sites[i].Units <= ceiling.PerSite, $"injectionSites[{i}].units",
                $"is above {ceiling.PerSite} units of {code} at one site: confirm it with highDoseConfirmed and highDoseReason");
        }
        high.Check(total + around <= ceiling.Cumulative, "injectionSites",
            $"add up to {total + around} units of {code} within 12 weeks (this session {total}), above {ceiling.Cumulative}: "
            + "confirm it with highDoseConfirmed and highDoseReason");
        if (request.HighDoseConfirmed != true)
        {
            errors = high;
            errors.Check(request.HighDoseReason is null, "highDoseReason", "is only given with highDoseConfirmed");
            return errors;
        }
        if (errors.Required(request.HighDoseReason, "highDoseReason"))
        {
            errors.Text(request.HighDoseReason!, "highDoseReason", ObservationRules.MaxReasonLength);
        }
        errors.Check(!high.IsEmpty, "highDoseConfirmed", "is only for a dose above the product's plausibility ceiling");
        return errors;
    }

    /// <summary>The stored session of an earlier submission with the same id: 200 when the body matches, 409 when not; null when there is none.</summary>
    private async Task<Results<Created<TreatmentSessionResponse>, Ok<TreatmentSessionResponse>, ValidationProblem, NotFoundProblem, ConflictProblem>?> ReplayAsync(
        DbConnection connection, long patientId, string submissionId, string hash, CancellationToken ct)
    {
        var earlier = await connection.QuerySingleOrDefaultAsync<SessionRow>(
            db.Command(sql.BySubmission, new { PatientId = patientId, SubmissionId = submissionId }, ct));
        if (earlier is null)
        {
            return null;
        }
        if (earlier.PayloadHash != hash)
        {
            return Problems.Conflict("This submissionId was already used for a different session; a retry must resend the same body.");
        }
        return TypedResults.Ok((await TreatmentSessionsApi.WithSitesAsync(connection, db, sql, [earlier], ct))[0]);
    }

    /// <summary>
    /// Fingerprint of everything the client sent but its submission id. A plain new session hashes as
    /// it always has, so that the retry of a session recorded before corrections existed still matches.
    /// </summary>
    private static string PayloadHash(CreateTreatmentSessionRequest r, IEnumerable<InjectionSite> sites, long? amends, string? reason, bool enteredInError)
    {
        List<string?> fields =
        [
            r.SessionDate!.Value.ToString("O", CultureInfo.InvariantCulture),
            r.PractitionerId!.Value.ToString(CultureInfo.InvariantCulture),
            EnumCode<Product>.Of(r.Product!.Value), EnumCode<Guidance>.Of(r.Guidance!.Value),
            r.DilutionUnitsPerMl!.Value.ToString(CultureInfo.InvariantCulture),
            string.Join(';', sites.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Muscle},{EnumCode<BodySide>.Of(s.Side)},{s.Units}"))),
        ];
        if (amends is not null || enteredInError || r.HighDoseConfirmed == true)
        {
            fields.AddRange([amends?.ToString(CultureInfo.InvariantCulture), reason, enteredInError ? "1" : "0", r.HighDoseConfirmed == true ? r.HighDoseReason : null]);
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', fields))));
    }
}
