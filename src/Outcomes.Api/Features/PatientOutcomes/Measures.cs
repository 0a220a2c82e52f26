using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using Dapper;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Instruments;
using Outcomes.Core.Clinic;
using Outcomes.Core.Instruments;
using Outcomes.Core.Outcomes;

namespace Outcomes.Api.Features.PatientOutcomes;

/// <summary>The <c>Outcomes</c> configuration section: the baseline rule (our choice; docs/clinical-definitions.md).</summary>
public sealed class OutcomesOptions
{
    public const string Section = "Outcomes";

    /// <summary>Days before (and including) the session day whose values may form the baseline.</summary>
    [Range(1, 90)]
    public int BaselineWindowDays { get; set; } = 14;

    /// <summary>The baseline is the mean of at most this many of the latest values in the window.</summary>
    [Range(1, 10)]
    public int BaselineValues { get; set; } = 2;

    public BaselineRule Rule => new(BaselineWindowDays, BaselineValues);

    /// <summary>
    /// Memory (an estimate, in MB) for each patient's measures as last read for a trend or outcomes, advanced by the
    /// values written since instead of read again (<see cref="MeasureProgressCache"/>); 0 reads every value on every read.
    /// </summary>
    [Range(0, 1_000_000)]
    public int KeptProgressMegabytes { get; set; } = 64;

    /// <summary>
    /// Memory (MB) for each patient's trend and outcomes answers as last written, kept when computed a second time under
    /// the same counters and written again while nothing they show has changed (<see cref="PatientAnswerCache"/>); 0
    /// computes and streams every answer.
    /// </summary>
    [Range(0, 1_000_000)]
    public int KeptAnswerMegabytes { get; set; } = 32;
}

/// <summary>Where a measure's values are stored: observation kind, code, and optionally qualifier and side.</summary>
public sealed record MeasureSource(ObservationKind Kind, string Code, string? Qualifier, string? BodySide);

public sealed record ResolvedMeasure(MeasureDefinition Definition, MeasureSource Source, bool Weekly);

/// <summary>
/// Measure keys and what they mean. <c>pain_nrs</c> is the weekly pain score with the 7-day-average
/// recall (<c>pain_nrs:current</c> and <c>pain_nrs:worst7Days</c> for the others); a questionnaire's
/// key is its instrument code; a range of motion's its movement code; a pressure pain threshold's
/// <c>ppt:{muscle}:{side}</c>.
/// </summary>
public sealed class MeasureCatalog(InstrumentCatalog instruments, Database db, MeasureSql sql)
{
    /// <summary>
    /// Day-to-day variation in healthy people, used as the important-change threshold for range of
    /// motion: about 14° for rotation and 20° for flexion and extension (Christensen &amp; Nilsson 1998).
    /// </summary>
    public static decimal? DetectableChange(string movement) =>
        movement.Contains("rotation", StringComparison.Ordinal) ? 14m
        : movement.EndsWith("_flexion", StringComparison.Ordinal) || movement.EndsWith("_extension", StringComparison.Ordinal) ? 20m
        : null;

    /// <summary>Minimal detectable change of a pressure pain threshold on trapezius trigger points: 0.45–0.62 kg/cm²; the upper end.</summary>
    public const decimal PressureThresholdDetectableChange = 0.62m;

    /// <param name="connection">An open connection to read an instrument's latest version on; else one is opened.</param>
    public async Task<ResolvedMeasure?> ResolveAsync(string key, CancellationToken ct, DbConnection? connection = null)
    {
        if (key == "pain_nrs" || key.StartsWith("pain_nrs:", StringComparison.Ordinal))
        {
            var recall = key == "pain_nrs" ? PainRecall.Average7Days
                : EnumCode<PainRecall>.TryParse(key["pain_nrs:".Length..], out var r) ? r : (PainRecall?)null;
            if (recall is null)
            {
                return null;
            }
            var name = recall switch
            {
                PainRecall.Average7Days => "Pain NRS, average of the past 7 days",
                PainRecall.Worst7Days => "Pain NRS, worst of the past 7 days",
                _ => "Pain NRS, now",
            };
            return new ResolvedMeasure(new MeasureDefinition(key, name, Direction.HigherIsWorse, "score", 2m, 30m),
                new MeasureSource(ObservationKind.PainScore, "pain_nrs", EnumCode<PainRecall>.Of(recall.Value), null), Weekly: true);
        }
        if (key.StartsWith("ppt:", StringComparison.Ordinal))
        {
            var parts = key.Split(':');
            if (parts.Length != 3 || !Muscles.IsKnown(parts[1]) || !EnumCode<BodySide>.TryParse(parts[2], out _))
            {
                return null;
            }
            return new ResolvedMeasure(
                new MeasureDefinition(key, $"Pressure pain threshold, {Muscles.Find(parts[1])!.Name}, {parts[2]}", Direction.HigherIsBetter,
                    "kg/cm2", PressureThresholdDetectableChange),
                new MeasureSource(ObservationKind.PressurePainThreshold, parts[1], null, parts[2]), Weekly: false);
        }
        if (Movements.Find(key) is { } movement)
        {
            return new ResolvedMeasure(
                new MeasureDefinition(key, movement.Name, Direction.HigherIsBetter, "deg", DetectableChange(key)),
                new MeasureSource(ObservationKind.RangeOfMotion, key, null, null), Weekly: false);
        }
        if (await LatestDefinitionAsync(key, connection, ct) is { } instrument)
        {
            return new ResolvedMeasure(
                new MeasureDefinition(key, instrument.Name, instrument.Direction, "score", instrument.MinimalImportantChange,
                    instrument.MinimalImportantChangePercent, instrument.ResponderMaxScore),
                new MeasureSource(ObservationKind.Questionnaire, key, null, null), Weekly: false);
        }
        return null;
    }

    /// <summary>The key of the measure an observation counts for; null for side effects.</summary>
    public static string? KeyOf(string kind, string code, string? qualifier, string? bodySide) =>
        EnumCode<ObservationKind>.Parse(kind) switch
        {
            ObservationKind.PainScore => qualifier == EnumCode<PainRecall>.Of(PainRecall.Average7Days) ? "pain_nrs" : $"pain_nrs:{qualifier}",
            ObservationKind.PressurePainThreshold => $"ppt:{code}:{bodySide}",
            ObservationKind.SideEffect => null,
            _ => code,
        };

    private async Task<InstrumentDefinition?> LatestDefinitionAsync(string code, DbConnection? connection, CancellationToken ct)
    {
        await using var own = connection is null ? await db.OpenAsync(ct) : null;
        var version = await (connection ?? own!).QueryFirstOrDefaultAsync<string>(db.Command(sql.LatestVersion, new { Code = code }, ct));
        return version is null ? null : await instruments.FindAsync(code, version, ct);
    }
}

public sealed class MeasureSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string LatestVersion { get; } = $"SELECT version FROM instrument WHERE code = @Code ORDER BY id DESC {dialect.Limit("1")};";
}
