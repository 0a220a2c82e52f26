using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.PatientOutcomes;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;
using Outcomes.Core.Cohorts;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Features.Cohorts;

/// <summary>The <c>Cohorts</c> configuration section.</summary>
public sealed class CohortOptions
{
    public const string Section = "Cohorts";

    /// <summary>Cells describing 1 to this many patients are suppressed (the CMS cell-size rule: 10).</summary>
    [Range(0, 1000)]
    public int SmallCellThreshold { get; set; } = 10;

    /// <summary>Secret behind the pseudonymous patient keys of exports; exports are refused while it is unset.</summary>
    public string? PseudonymSecret { get; set; }

    /// <summary>
    /// Computed cohort cycles kept in memory, across patients (<see cref="CohortCycleCache"/>); 0 keeps none.
    /// Each costs about 1.5 KB (the 724,199 cycles of the 100,000-patient demo clinic took about 1.1 GB).
    /// </summary>
    [Range(0, 100_000_000)]
    public int CachedCycles { get; set; } = 1_000_000;

    /// <summary>
    /// Cycles whose state is kept per patient, measure and window (<see cref="CohortProgressCache"/>), so that a
    /// patient written since the last query has its cycles advanced by the values appended, not computed from its
    /// whole history; about 300 bytes a cycle. 0 keeps none.
    /// </summary>
    [Range(0, 100_000_000)]
    public int KeptProgressCycles { get; set; } = 200_000;

    /// <summary>
    /// How many of a stored series' last characters a cohort query reads for a patient whose progress is kept
    /// (<see cref="CohortProgressCache"/>): the points appended since lie there, unless a fold took more than fit (about
    /// 13 characters a weekly score: 8,000 hold some 600), and then that patient's series is read whole.
    /// </summary>
    [Range(100, 1_000_000)]
    public int SeriesEndCharacters { get; set; } = 8_000;
}

/// <summary>Which cycles form the cohort, and what is measured when.</summary>
public sealed record CohortQuery(
    [property: Description("Condition code, e.g. neckShoulderPain.")] string? Condition,
    [property: Description("Site id.")] long? SiteId,
    [property: Description("Practitioner id (of the session).")] long? PractitionerId,
    [property: Description("Product: onabotulinumtoxinA, abobotulinumtoxinA, incobotulinumtoxinA.")] string? Product,
    [property: Description("Guidance: palpation, emg, ultrasound.")] string? Guidance,
    [property: Description("Least total units of the session; needs product (units are never compared across products).")] decimal? MinUnits,
    [property: Description("Most total units of the session; needs product.")] decimal? MaxUnits,
    [property: Description("first or repeat cycle.")] string? Cycle,
    [property: Description("Sessions on or after this date.")] DateOnly? From,
    [property: Description("Sessions on or before this date.")] DateOnly? To,
    [property: Description("Youngest age at the session.")] int? MinAge,
    [property: Description("Oldest age at the session.")] int? MaxAge,
    [property: Description("Sex: female, male, other, unknown.")] string? Sex,
    [property: Description("Measure key (default pain_nrs).")] string? Measure,
    [property: Description("Follow-up week: 2, 6, 12 (default) or 24.")] int? Week,
    [property: Description("true: only each patient's first cycle that matches the filters, so that every patient counts once and the "
        + "cycles are independent; false (default): every matching cycle, a patient may contribute several.")] bool? FirstCycleOnly);

/// <param name="UnitOfAnalysis">What is counted: every cycle, or each patient's first cycle only.</param>
public sealed record CohortOutcomesResponse(string Measure, int Week, int SmallCellThreshold, string UnitOfAnalysis, CohortSummary Summary);

/// <param name="Estimate">Rate of group a minus rate of group b.</param>
/// <param name="Lower">Newcombe hybrid score interval (method 10), 95%.</param>
public sealed record GroupDifference(string A, string B, double? Estimate, double? Lower, double? Upper, bool Suppressed);

public sealed record CompareResponse(string By, string Measure, int Week, ResponderRule Responder, int SmallCellThreshold, IReadOnlyList<GroupRate> Groups, GroupDifference? Difference);

public sealed record DurationResponse(string Measure, int SmallCellThreshold, DurationSummary Duration);

public sealed record OverTimeResponse(string Measure, int Week, ResponderRule Responder, int SmallCellThreshold, IReadOnlyList<GroupRate> Quarters);

public static class CohortsApi
{
    private static readonly int[] _curveWeeks = [4, 8, 12, 16, 20, 24, 32, 40, 52];
    /// <summary>What <c>compare</c> may group by.</summary>
    public static readonly string[] Groupings = CohortBreakdown.Groupings;

    public static RouteGroupBuilder MapCohorts(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/cohorts").WithTags("Cohorts").RequireAuthorization(Policies.Auditor);
        const string Safe = " Auditors and admins; every call is audited with its filters. De-identified: counts and rates only, "
            + "and any cell describing 1 to 10 patients (configurable) is suppressed with whatever could recover it, within the answer and "
            + "from the cohort's totals (the same filters give the same suppression). Only patients with at least one value of the measure "
            + "are in its cohort. Definitions: docs/clinical-definitions.md in the repository.";

        group.MapGet("/outcomes", GetOutcomes)
            .WithName("GetCohortOutcomes")
            .WithSummary("Response rates, change and side effects of a cohort's treatment cycles")
            .WithDescription("Cycles with a value in the follow-up window (the complete cases), without one (missing, always counted), "
                + "without a baseline, not yet reached and re-treated before the window; responders at 30%, 50% and the important "
                + "change as k of n of the complete cases with two 95% intervals: Wilson (cycles as independent) and clustered (patient "
                + "as the cluster); mean change with a t interval and a clustered one; median and IQR (quantile type 7); side-effect "
                + "rates. firstCycleOnly=true counts each patient once." + Safe);

        group.MapGet("/compare", Compare)
            .WithName("CompareCohorts")
            .WithSummary("Response rate per group, and the difference between two groups")
            .WithDescription("Groups by guidance, product, doseBand, condition, site, practitioner or cycle (first/repeat); the difference "
                + "a − b with Newcombe's hybrid score interval (method 10)." + Safe);

        group.MapGet("/duration", Duration)
            .WithName("GetCohortDuration")
            .WithSummary("Kaplan–Meier duration of response")
            .WithDescription("From onset to loss of response, censored at the cycle's last report (last contact, which comes before any "
                + "re-treatment); the Kaplan–Meier median with its 95% interval (log transformation, Greenwood variance: R survfit's "
                + "default) and the curve at weeks 4 to 52." + Safe);

        group.MapGet("/over-time", OverTime)
            .WithName("GetCohortOverTime")
            .WithSummary("Response rate per quarter of session date")
            .WithDescription("So a clinic sees whether its protocol changes help." + Safe);

        group.MapGet("/export.csv", Export)
            .Produces(StatusCodes.Status200OK, contentType: "text/csv")
            .WithName("ExportCohortCycles")
            .WithSummary("The per-cycle outcome rows behind a cohort, as CSV")
            .WithDescription("Pseudonymous patient keys, stable for one export salt; session quarter instead of dates, age bands (<18, "
                + "18-29, then 10 years each, 90+) instead of birth years. k-anonymous: every combination of site, practitioner, sex, age band, conditions and quarter "
                + "describes more patients than the small-cell threshold, reached by generalising (practitioner, then site, to all; "
                + "quarter to year; age bands wider, then all; year to all) and suppressing the rows that remain in smaller groups. "
                + "The headers Outcomes-Generalised and Outcomes-Suppressed-Rows say what was done. An admin may ask for full=true: "
                + "the pseudonymous rows without generalisation, audited as such. Auditors and admins; audited with its filters.");

        return group;
    }

    public static async Task<Results<Ok<CohortOutcomesResponse>, ValidationProblem>> GetOutcomes(
        [AsParameters] CohortQuery query, HttpContext http, CohortService cohorts, CancellationToken ct)
    {
        var (spec, errors) = await cohorts.ParseAsync(query, ct);
        if (spec is null)
        {
            return Problems.Invalid(errors);
        }
        var aggregate = await cohorts.AggregateAsync(spec, ct);
        await cohorts.AuditAsync(http, "cohort_outcomes", query, ct);
        return TypedResults.Ok(new CohortOutcomesResponse(spec.Measure.Definition.Key, spec.Window.Week, cohorts.Threshold,
            spec.FirstCycleOnly ? "each patient's first matching treatment cycle (one per patient)"
                : "treatment cycle (a patient may contribute several; the clustered intervals allow for it)",
            aggregate.Summarise(cohorts.Threshold)));
    }

    public static async Task<Results<Ok<CompareResponse>, ValidationProblem>> Compare(
        [AsParameters] CohortQuery query,
        [Description("Grouping: guidance, product, doseBand, condition, site, practitioner, cycle.")] string? by,
        [Description("First group of the difference, from the grouping's domain: a guidance (emg), product, condition code, site or practitioner id, first or repeat, or a dose band (onabotulinumtoxinA 50-99; with a product filter also 50-99, <50, >=200).")] string? a,
        [Description("Second group of the difference (e.g. palpation), from the same domain.")] string? b,
        [Description("Responder rule: relief30 (default), relief50, importantChange.")] string? responder,
        HttpContext http, CohortService cohorts, CancellationToken ct)
    {
        var (spec, errors) = await cohorts.ParseAsync(query, ct);
        var grouping = by ?? "guidance";
        errors.Check(Groupings.Contains(grouping), "by", $"must be one of {string.Join(", ", Groupings)}");
        var rule = ParseRule(responder, errors);
        errors.Check((a is null) == (b is null), a is null ? "a" : "b", "a and b are given together");
        if (spec is not null && Groupings.Contains(grouping))
        {
            a = GroupKey(grouping, a, "a", spec.Filter.Product, errors);
            b = GroupKey(grouping, b, "b", spec.Filter.Product, errors);
        }
        if (spec is null || !errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        var breakdown = new CohortBreakdown(cycle => CohortBreakdown.KeysOf(grouping, cycle));
        await foreach (var cycle in cohorts.CyclesAsync(spec, ct))
        {
            breakdown.Add(cycle);
        }
        var rates = breakdown.Rates(rule, cohorts.Threshold);
        GroupDifference? difference = null;
        if (a is not null && b is not null)
        {
            var ra = rates.FirstOrDefault(r => r.Group == a)?.Rate;
            var rb = rates.FirstOrDefault(r => r.Group == b)?.Rate;
            var d = ra is { Suppressed: false, K: { } k1, N: { } n1 } && rb is { Suppressed: false, K: { } k2, N: { } n2 }
                ? Core.Statistics.Intervals.Newcombe(k1, n1, k2, n2)
                : null;
            difference = new GroupDifference(a, b, d?.Estimate, d?.Lower, d?.Upper, d is null && (ra?.Suppressed == true || rb?.Suppressed == true));
        }
        await cohorts.AuditAsync(http, "cohort_compare", new { query, by = grouping, a, b, responder }, ct);
        return TypedResults.Ok(new CompareResponse(grouping, spec.Measure.Definition.Key, spec.Window.Week, rule, cohorts.Threshold, rates, difference));
    }

    public static async Task<Results<Ok<DurationResponse>, ValidationProblem>> Duration(
        [AsParameters] CohortQuery query, HttpContext http, CohortService cohorts, CancellationToken ct)
    {
        var (spec, errors) = await cohorts.ParseAsync(query, ct);
        if (spec is null)
        {
            return Problems.Invalid(errors);
        }
        var aggregate = await cohorts.AggregateAsync(spec, ct);
        await cohorts.AuditAsync(http, "cohort_duration", query, ct);
        return TypedResults.Ok(new DurationResponse(spec.Measure.Definition.Key, cohorts.Threshold, aggregate.Duration(cohorts.Threshold, _curveWeeks)));
    }

    public static async Task<Results<Ok<OverTimeResponse>, ValidationProblem>> OverTime(
        [AsParameters] CohortQuery query,
        [Description("Responder rule: relief30 (default), relief50, importantChange.")] string? responder,
        HttpContext http, CohortService cohorts, CancellationToken ct)
    {
        var (spec, errors) = await cohorts.ParseAsync(query, ct);
        var rule = ParseRule(responder, errors);
        if (spec is null || !errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        var quarters = new CohortBreakdown(cycle => [CohortBreakdown.Quarter(cycle.Session.Date)]);
        await foreach (var cycle in cohorts.CyclesAsync(spec, ct))
        {
            quarters.Add(cycle);
        }
        await cohorts.AuditAsync(http, "cohort_over_time", new { query, responder }, ct);
        return TypedResults.Ok(new OverTimeResponse(spec.Measure.Definition.Key, spec.Window.Week, rule, cohorts.Threshold,
            quarters.Rates(rule, cohorts.Threshold)));
    }

    public static async Task<Results<PushStreamHttpResult, ValidationProblem, ProblemHttpResult>> Export(
        [AsParameters] CohortQuery query,
        [Description("Export salt, at least 16 characters: the same salt gives the same patient keys.")] string? salt,
        [Description("Admins only: true gives the pseudonymous rows without generalisation or suppression, audited as a full export.")] bool? full,
        HttpContext http, CohortService cohorts, IOptions<CohortOptions> options, CancellationToken ct)
    {
        var (spec, errors) = await cohorts.ParseAsync(query, ct);
        if (errors.Required(salt, "salt"))
        {
            errors.Check(salt!.Length is >= 16 and <= 200, "salt", "must be 16 to 200 characters");
        }
        if (spec is null || !errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        if (options.Value.PseudonymSecret is not { Length: >= 32 } secret)
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Export not configured",
                Detail = "Set Cohorts:PseudonymSecret (at least 32 characters) to enable exports.",
            });
        }
        var isFull = full == true;
        if (isFull && !CurrentUser.From(http.User).IsAdmin)
        {
            await cohorts.AuditAsync(http, "cohort_export_full", query, ct, outcome: "denied");
            return TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Full export is for admins",
                Detail = "Auditors receive the k-anonymous export; leave out full or set it to false.",
            });
        }
        await cohorts.AuditAsync(http, isFull ? "cohort_export_full" : "cohort_export", query, ct);
        var key = Encoding.UTF8.GetBytes(secret);
        // The whole export is read before the first row is written: k-anonymity is a property of all the rows.
        var rows = new List<(string?[] Fields, long Patient, QuasiIdentifiers Identifiers)>();
        await foreach (var cycle in cohorts.CyclesAsync(spec, ct))
        {
            rows.Add((CohortCsv.Fields(cycle, Pseudonym(key, salt!, cycle.Patient.Id)), cycle.Patient.Id, CohortCsv.Identifiers(cycle)));
        }
        IReadOnlyList<(string?[] Fields, QuasiIdentifiers Identifiers)> kept;
        if (isFull)
        {
            kept = [.. rows.Select(r => (r.Fields, r.Identifiers))];
            http.Response.Headers["Outcomes-Generalised"] = "none (full export)";
            http.Response.Headers["Outcomes-Suppressed-Rows"] = "0";
        }
        else
        {
            var protectedRows = KAnonymity.Protect(rows, cohorts.Threshold + 1);
            kept = protectedRows.Kept;
            http.Response.Headers["Outcomes-K-Anonymity"] = (cohorts.Threshold + 1).ToString(CultureInfo.InvariantCulture);
            http.Response.Headers["Outcomes-Generalised"] = protectedRows.Generalised.Count == 0 ? "none" : string.Join(", ", protectedRows.Generalised);
            http.Response.Headers["Outcomes-Suppressed-Rows"] = protectedRows.Suppressed.ToString(CultureInfo.InvariantCulture);
        }
        return TypedResults.Stream(async stream =>
        {
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false));
            await writer.WriteLineAsync(CohortCsv.Header);
            foreach (var (fields, identifiers) in kept)
            {
                await writer.WriteLineAsync(CohortCsv.Line(fields, identifiers));
            }
        }, "text/csv; charset=utf-8", $"cohort-{spec.Measure.Definition.Key}-week{spec.Window.Week}.csv");
    }

    private static string Pseudonym(byte[] key, string salt, long patientId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{salt}:{patientId}"))))[..16];

    private static ResponderRule ParseRule(string? responder, ValidationErrors errors)
    {
        if (responder is null)
        {
            return ResponderRule.Relief30;
        }
        errors.Check(EnumCode<ResponderRule>.TryParse(responder, out var rule), "responder",
            $"must be one of {string.Join(", ", EnumCode<ResponderRule>.All)}");
        return rule;
    }

    /// <summary>
    /// A group named in <c>a</c> or <c>b</c>, checked against the grouping's domain (a group that
    /// cannot exist would answer 200 with nothing to compare); a dose band may be given in its short
    /// form with a <c>product</c> filter. Null stays null.
    /// </summary>
    private static string? GroupKey(string by, string? key, string field, Product? product, ValidationErrors errors)
    {
        if (key is null)
        {
            return null;
        }
        if (by is "site" or "practitioner")
        {
            errors.Check(long.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0, field,
                $"must be a {by} id (a positive whole number)");
            return key;
        }
        if (by == "doseBand")
        {
            if (DoseBands.TryResolve(key, product, out var band))
            {
                return band;
            }
            var labels = product is { } p ? DoseBands.LabelsOf(p) : Enum.GetValues<Product>().SelectMany(DoseBands.LabelsOf);
            errors.Add(field, $"must be a dose band: {string.Join(", ", labels)}"
                + (product is null ? " (with a product filter, the short form, e.g. 50-99, will do)" : ""));
            return key;
        }
        IReadOnlyCollection<string> domain = by switch
        {
            "product" => EnumCode<Product>.All,
            "condition" => EnumCode<Condition>.All,
            "cycle" => ["first", "repeat"],
            _ => EnumCode<Guidance>.All,
        };
        errors.Check(domain.Contains(key), field, $"must be one of {string.Join(", ", domain)} when comparing by {by}");
        return key;
    }

}

/// <summary>A parsed cohort request.</summary>
public sealed record CohortSpec(CohortFilter Filter, ResolvedMeasure Measure, FollowUpWindow Window, bool FirstCycleOnly);

/// <summary>Parses cohort requests, streams their cycles and audits each call.</summary>
public sealed class CohortService(
    CohortReader reader, MeasureCatalog measures, IOptions<CohortOptions> cohortOptions, IOptions<OutcomesOptions> outcomeOptions,
    TimeProvider clock, AuditLog audit, Database db, CohortCycleCache cache, CohortProgressCache progress)
{
    private static readonly int[] _weeks = [2, 6, 12, 24];

    public int Threshold => cohortOptions.Value.SmallCellThreshold;

    public async Task<(CohortSpec? Spec, ValidationErrors Errors)> ParseAsync(CohortQuery q, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var condition = Parse<Condition>(q.Condition, "condition", errors);
        var product = Parse<Product>(q.Product, "product", errors);
        var guidance = Parse<Guidance>(q.Guidance, "guidance", errors);
        var sex = Parse<Sex>(q.Sex, "sex", errors);
        var cycle = Parse<CycleKind>(q.Cycle, "cycle", errors);
        errors.Check((q.MinUnits is null && q.MaxUnits is null) || q.Product is not null, "product",
            "is required with minUnits or maxUnits: units are never compared across products");
        errors.Check(q.MinUnits is null || q.MaxUnits is null || q.MinUnits <= q.MaxUnits, "maxUnits", "must not be below minUnits");
        errors.Check(q.From is null || q.To is null || q.From <= q.To, "to", "must not be before from");
        errors.Check(q.MinAge is null || q.MaxAge is null || q.MinAge <= q.MaxAge, "maxAge", "must not be below minAge");
        errors.Check(q.MinAge is null or (>= 0 and <= 130), "minAge", "must be an age from 0 to 130");
        errors.Check(q.MaxAge is null or (>= 0 and <= 130), "maxAge", "must be an age from 0 to 130");
        errors.Check(q.MinUnits is null or > 0, "minUnits", "must be greater than 0");
        errors.Check(q.MaxUnits is null or > 0, "maxUnits", "must be greater than 0");
        errors.Check(q.SiteId is null or > 0, "siteId", "must be a site id (a positive whole number)");
        errors.Check(q.PractitionerId is null or > 0, "practitionerId", "must be a practitioner id (a positive whole number)");
        errors.Check(q.Week is null || _weeks.Contains(q.Week.Value), "week", "must be 2, 6, 12 or 24");
        var measure = await measures.ResolveAsync(q.Measure ?? "pain_nrs", ct);
        errors.Check(measure is not null, "measure", "is not a measure key");
        if (!errors.IsEmpty)
        {
            return (null, errors);
        }
        var filter = new CohortFilter(condition, q.SiteId, q.PractitionerId, product, guidance, q.MinUnits, q.MaxUnits, cycle,
            q.From, q.To, q.MinAge, q.MaxAge, sex);
        return (new CohortSpec(filter, measure!, FollowUpWindow.Standard.Single(w => w.Week == (q.Week ?? 12)), q.FirstCycleOnly == true), errors);
    }

    /// <summary>
    /// The cohort's cycles, each with its outcome, in patient order. Each patient's computed cycles are kept
    /// (<see cref="CohortCycleCache"/>) under the patient's change counter, read before anything else, and for
    /// the days they stay the same; only the patients whose counter moved, or whose cycles the day changed, are
    /// computed again. When they are few, only their histories are read; otherwise (the first query after a
    /// start, say) the whole cohort is streamed as without the cache.
    /// Kept cycles are not used when analytics read a replica: the replica's series may lag its counters.
    /// </summary>
    public async IAsyncEnumerable<CohortCycle> CyclesAsync(
        CohortSpec spec, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        if (!cache.Enabled || !db.AnalyticsReadPrimary)
        {
            await foreach (var cycle in ComputedAsync(spec, today, null, null, ct))
            {
                yield return cycle;
            }
            yield break;
        }
        var scope = new CohortCycleCache.Scope(spec.Measure.Definition, spec.Window, outcomeOptions.Value.Rule);
        var patients = await reader.GenerationsAsync(spec.Filter, ct);
        var kept = new CohortCycle[]?[patients.Count];
        var missing = new List<long>();
        for (var i = 0; i < patients.Count; i++)
        {
            if (!cache.TryGet(patients[i].PatientId, patients[i].Generation, scope, today, out kept[i]))
            {
                missing.Add(patients[i].PatientId);
            }
        }
        // The measure's series are read as their ends when most of the patients to compute have a progress kept.
        var fromEnds = missing.Count(id => progress.Holds(id, scope)) * 2 > missing.Count ? scope : null;
        if (missing.Count > MaxReadById || missing.Count * 2 > patients.Count)
        {
            await foreach (var cycle in ComputedAsync(spec, today, (scope, patients.ToDictionary(p => p.PatientId, p => p.Generation)), fromEnds, ct))
            {
                yield return cycle;
            }
            yield break;
        }
        var read = new Dictionary<long, PatientHistory>();
        await foreach (var history in reader.ReadByIdsAsync(missing, spec.Measure.Source, fromEnds, ct))
        {
            read[history.Patient.Id] = history;
        }
        for (var i = 0; i < patients.Count; i++)
        {
            var (patientId, generation) = patients[i];
            if (kept[i] is not { } all)
            {
                all = read.TryGetValue(patientId, out var history) ? [.. CohortCycles.All(history, spec.Measure.Definition, spec.Window, today, scope.Rule, progress.Outcomes(history, spec.Measure.Definition, spec.Window, scope.Rule, today))] : [];
                cache.Set(patientId, generation, scope, today, all);
            }
            foreach (var cycle in Picked(spec, all))
            {
                yield return cycle;
            }
        }
    }

    /// <summary>The cycles of one patient that belong to the cohort: those the filter matches, or only the first of them.</summary>
    private static IEnumerable<CohortCycle> Picked(CohortSpec spec, CohortCycle[] all) => CohortCycles.Matching(all, spec.Filter, spec.FirstCycleOnly);

    /// <summary>Patients whose histories are read by id; more are streamed with the whole cohort.</summary>
    private const int MaxReadById = 2 * SqlLimits.MaxListItems;

    /// <summary>
    /// The cohort's cycles computed from the whole cohort's histories, read one patient at a time. Reading
    /// and computing run side by side: one task reads the patients' histories into a short queue (at most
    /// <see cref="ReadAhead"/> patients, so memory stays bounded) while this one computes their cycles.
    /// With <paramref name="keep"/>, every patient's cycles are kept under the counter read before.
    /// </summary>
    private async IAsyncEnumerable<CohortCycle> ComputedAsync(
        CohortSpec spec, DateOnly today, (CohortCycleCache.Scope Scope, Dictionary<long, long> Generations)? keep, CohortCycleCache.Scope? fromEnds,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var rule = outcomeOptions.Value.Rule;
        var queue = Channel.CreateBounded<PatientHistory>(new BoundedChannelOptions(ReadAhead) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var producer = Task.Run(async () =>
        {
            try
            {
                await foreach (var history in reader.ReadAsync(spec.Filter, spec.Measure.Source, fromEnds, stop.Token))
                {
                    await queue.Writer.WriteAsync(history, stop.Token);
                }
                queue.Writer.Complete();
            }
            catch (Exception e)
            {
                // The consumer sees the reader's failure where it reads the queue.
                queue.Writer.Complete(e);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var history in queue.Reader.ReadAllAsync(ct))
            {
                CohortCycle[] all = [.. CohortCycles.All(history, spec.Measure.Definition, spec.Window, today, rule, progress.Outcomes(history, spec.Measure.Definition, spec.Window, rule, today))];
                if (keep is { } k && k.Generations.TryGetValue(history.Patient.Id, out var generation))
                {
                    cache.Set(history.Patient.Id, generation, k.Scope, today, all);
                }
                foreach (var cycle in Picked(spec, all))
                {
                    yield return cycle;
                }
            }
        }
        finally
        {
            // A consumer that stops early (an error, a cancelled export) stops the reader too.
            await stop.CancelAsync();
            await producer;
        }
    }

    /// <summary>Patients read ahead of the computation.</summary>
    private const int ReadAhead = 256;

    /// <summary>The whole cohort in one aggregate, read one patient at a time.</summary>
    public async Task<CohortAggregate> AggregateAsync(CohortSpec spec, CancellationToken ct)
    {
        var aggregate = new CohortAggregate();
        await foreach (var cycle in CyclesAsync(spec, ct))
        {
            aggregate.Add(cycle);
        }
        return aggregate;
    }

    public async Task AuditAsync(HttpContext http, string action, object filters, CancellationToken ct, string outcome = AuditOutcomes.Success)
    {
        await using var connection = await db.OpenAsync(ct);
        await audit.AppendAsync(connection, action, "cohort", null, null, ct, outcome: outcome,
            detail: JsonSerializer.Serialize(filters, JsonSerializerOptions.Web));
    }

    private static T? Parse<T>(string? code, string field, ValidationErrors errors) where T : struct, Enum
    {
        if (code is null)
        {
            return null;
        }
        if (EnumCode<T>.TryParse(code, out var value))
        {
            return value;
        }
        errors.Add(field, $"must be one of {string.Join(", ", EnumCode<T>.All)}");
        return null;
    }
}

/// <summary>One CSV line per cohort cycle: no external reference, birth year or exact date.</summary>
public static class CohortCsv
{
    public const string Header =
        "patient_key,cycle,session_quarter,product,guidance,total_units,dose_band,site_id,practitioner_id,sex,age_band,conditions,"
        + "window_week,window_status,baseline,value,change,percent_change,responder_30,responder_50,important_change,"
        + "onset_days,duration_days,duration_censored,response_status,side_effect,serious_side_effect";

    /// <summary>The row's fields; its quasi-identifiers are written from <see cref="Identifiers"/> by <see cref="Line"/>.</summary>
    public static string?[] Fields(CohortCycle c, string patientKey)
    {
        var w = c.Window;
        var o = c.Outcome;
        string?[] fields =
        [
            patientKey,
            Num(c.Number),
            CohortBreakdown.Quarter(c.Session.Date),
            EnumCode<Product>.Of(c.Session.Product),
            EnumCode<Guidance>.Of(c.Session.Guidance),
            Num(c.Session.TotalUnits),
            c.DoseBand,
            Num(c.Patient.SiteId),
            Num(c.Session.PractitionerId),
            EnumCode<Sex>.Of(c.Patient.Sex),
            AgeBands.Of(c.Age),
            string.Join(';', c.Patient.Conditions.Select(EnumCode<Condition>.Of)),
            Num(w.Week),
            EnumCode<Core.Outcomes.WindowStatus>.Of(w.Status),
            Num(o.Baseline?.Value),
            Num(w.Value?.Value),
            Num(w.Change?.Absolute),
            Num(w.Change?.Percent),
            Bool(w.Change?.Responder30 ?? w.Responder),
            Bool(w.Change?.Responder50 ?? w.Responder),
            Bool(w.Change?.ImportantChange ?? w.Responder),
            Num(o.OnsetDays),
            Num(o.DurationDays),
            o.DurationDays is null ? "" : Bool(o.DurationCensored),
            EnumCode<Core.Outcomes.ResponseStatus>.Of(o.Status),
            Bool(c.SideEffect),
            Bool(c.SeriousSideEffect),
        ];
        return fields;
    }

    /// <summary>Site, practitioner, sex, age band, conditions and session quarter: what could single a patient out together.</summary>
    public static QuasiIdentifiers Identifiers(CohortCycle c) => new(
        Num(c.Patient.SiteId), Num(c.Session.PractitionerId), EnumCode<Sex>.Of(c.Patient.Sex), AgeBands.Of(c.Age),
        string.Join(';', c.Patient.Conditions.Select(EnumCode<Condition>.Of)), CohortBreakdown.Quarter(c.Session.Date));

    /// <summary>The CSV line of <paramref name="fields"/> with its (possibly generalised) quasi-identifiers.</summary>
    public static string Line(string?[] fields, QuasiIdentifiers q)
    {
        var line = (string?[])fields.Clone();
        (line[2], line[7], line[8], line[9], line[10], line[11]) = (q.Period, q.Site, q.Practitioner, q.Sex, q.AgeBand, q.Conditions);
        return string.Join(',', line.Select(Quote));
    }

    private static string Num<T>(T? value) where T : struct, IFormattable => value?.ToString(null, CultureInfo.InvariantCulture) ?? "";

    private static string Num<T>(T value) where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);

    private static string Bool(bool? value) => value is null ? "" : value.Value ? "1" : "0";

    private static string Quote(string? field) =>
        field is null ? "" : field.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : field;
}
