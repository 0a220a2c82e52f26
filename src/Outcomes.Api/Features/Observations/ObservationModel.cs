using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Outcomes.Core.Clinic;
using Outcomes.Core.Instruments;

namespace Outcomes.Api.Features.Observations;

/// <summary>What a validated submission asks to store.</summary>
public sealed record NewObservation(
    ObservationKind Kind,
    string Code,
    DateTimeOffset AnsweredAt,
    Guid SubmissionId,
    decimal? Value = null,
    string? InstrumentVersion = null,
    string? Qualifier = null,
    string? BodySide = null,
    DateOnly? OnsetOn = null,
    bool Serious = false,
    ObservationDetail? Detail = null,
    long? Amends = null,
    string? Reason = null,
    bool EnteredInError = false)
{
    /// <summary>
    /// A fingerprint of everything the client sent except its submission id: a retry with the same
    /// id and the same fingerprint is the same submission; with another fingerprint, a conflict.
    /// </summary>
    public string PayloadHash()
    {
        var canonical = string.Join('\u001f',
            EnumCode<ObservationKind>.Of(Kind), Code, InstrumentVersion, Value?.ToString(CultureInfo.InvariantCulture),
            Qualifier, BodySide, OnsetOn?.ToString("O", CultureInfo.InvariantCulture), Serious ? "1" : "0",
            Detail is null ? null : JsonSerializer.Serialize(Detail, InstrumentJson.Options),
            AnsweredAt.UtcTicks.ToString(CultureInfo.InvariantCulture),
            AnsweredAt.Offset.TotalMinutes.ToString(CultureInfo.InvariantCulture),
            Amends?.ToString(CultureInfo.InvariantCulture), Reason, EnteredInError ? "1" : "0");
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}

/// <summary>What an observation holds beyond its value: a questionnaire's answers and raw sum, or a side effect's note.</summary>
public sealed record ObservationDetail(
    IReadOnlyList<ItemAnswer>? Answers = null, decimal? RawSum = null, int? AnsweredItems = null, string? Note = null);

public static class ObservationStatus
{
    public const string Current = "current";
    public const string Superseded = "superseded";
    public const string EnteredInError = "enteredInError";
}

/// <summary>One stored version of an observation.</summary>
/// <param name="RecordId">The id of the record's first version; every version of a record shares it.</param>
/// <param name="Status"><c>current</c>, <c>superseded</c> (amended later) or <c>enteredInError</c>.</param>
/// <param name="Value">Score, degrees or kg/cm², as the kind defines; null for side effects.</param>
/// <param name="Unit">Unit of <paramref name="Value"/>.</param>
/// <param name="Qualifier">Recall period (pain), method (range of motion) or severity (side effect).</param>
/// <param name="AnsweredAt">When the patient answered or the practitioner measured, with the client's offset.</param>
/// <param name="ReceivedAt">When the server stored it (server clock, UTC).</param>
public sealed record ObservationResponse(
    long Id,
    long RecordId,
    long PatientId,
    ObservationKind Kind,
    string Code,
    string? InstrumentVersion,
    decimal? Value,
    string? Unit,
    string? Qualifier,
    string? BodySide,
    DateOnly? OnsetOn,
    bool Serious,
    ObservationDetail? Detail,
    DateTimeOffset AnsweredAt,
    DateTimeOffset ReceivedAt,
    Guid SubmissionId,
    string Status,
    long? SupersedesId,
    long? SupersededById,
    string? ChangeReason,
    string RecordedByRole);

internal sealed class ObservationRow
{
    /// <summary>Settable: a row about to be inserted learns its id from the insert.</summary>
    public long Id { get; set; }
    public long PatientId { get; init; }
    public string Kind { get; init; } = "";
    public string Code { get; init; } = "";
    public string? InstrumentVersion { get; init; }
    public decimal? Value { get; init; }
    public string? Qualifier { get; init; }
    public string? BodySide { get; init; }
    public DateOnly? OnsetOn { get; init; }
    public bool Serious { get; init; }
    public string? Detail { get; init; }
    public DateTimeOffset AnsweredAt { get; init; }
    public int AnsweredOffsetMin { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public string SubmissionId { get; init; } = "";
    public string PayloadHash { get; init; } = "";
    public string RecordedBy { get; init; } = "";
    public string RecordedRole { get; init; } = "";
    public long? SupersedesId { get; init; }
    public long? RootId { get; init; }
    public bool EnteredInError { get; init; }
    public string? ChangeReason { get; init; }
    public long? SupersededById { get; init; }

    /// <summary>The submission id of the record's first version (read by the FHIR facade, as the record's identifier).</summary>
    public string? RecordSubmissionId { get; init; }

    /// <summary>The patient's site (read by the FHIR facade, which searches across patients).</summary>
    public long SiteId { get; init; }

    public ObservationResponse ToResponse()
    {
        var kind = EnumCode<ObservationKind>.Parse(Kind);
        return new ObservationResponse(
            Id, RootId ?? Id, PatientId, kind, Code, InstrumentVersion, Value, UnitOf(kind), Qualifier, BodySide, OnsetOn, Serious,
            Detail is null ? null : JsonSerializer.Deserialize<ObservationDetail>(Detail, InstrumentJson.Options),
            AnsweredAt.ToOffset(TimeSpan.FromMinutes(AnsweredOffsetMin)), ReceivedAt, Guid.Parse(SubmissionId),
            SupersededById is not null ? ObservationStatus.Superseded
                : EnteredInError ? ObservationStatus.EnteredInError : ObservationStatus.Current,
            SupersedesId, SupersededById, ChangeReason, RecordedRole);
    }

    public static string? UnitOf(ObservationKind kind) => kind switch
    {
        ObservationKind.RangeOfMotion => "deg",
        ObservationKind.PressurePainThreshold => "kg/cm2",
        ObservationKind.PainScore or ObservationKind.Questionnaire => "score",
        _ => null,
    };
}
