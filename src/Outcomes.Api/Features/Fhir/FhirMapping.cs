using System.Globalization;
using Hl7.Fhir.Model;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Features.TreatmentSessions;
using Outcomes.Core.Clinic;
using Outcomes.Core.Instruments;
using FhirObservationStatus = Hl7.Fhir.Model.ObservationStatus;
using StoredStatus = Outcomes.Api.Features.Observations.ObservationStatus;

namespace Outcomes.Api.Features.Fhir;

/// <summary>
/// The code systems the facade writes. Standard ones where a standard code exists (LOINC, UCUM, SNOMED CT, HL7's
/// own), and Outcomes' own, under <see cref="Base"/>, for its catalogues (muscles, movements, products, side
/// effects): the same codes as the native API, so that a record reads the same through either door.
/// </summary>
public static class FhirSystems
{
    /// <summary>Outcomes' namespace for its own code systems and extensions. Fixed, so every installation uses the same codes.</summary>
    public const string Base = "https://outcomes.example/fhir";
    public const string Loinc = "http://loinc.org";
    public const string Ucum = "http://unitsofmeasure.org";
    public const string Snomed = "http://snomed.info/sct";
    public const string ObservationCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
    public const string Seriousness = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness";

    /// <summary>Identifiers that are UUIDs, written <c>urn:uuid:…</c> (FHIR's convention): a record's submission id.</summary>
    public const string Uri = "urn:ietf:rfc:3986";

    public const string PainLoinc = "72514-3";

    public static string CodeSystem(string name) => $"{Base}/CodeSystem/{name}";

    public static string Extension(string name) => $"{Base}/StructureDefinition/{name}";

    /// <summary>The clinic's own patient references are unique within a site: one identifier system per site.</summary>
    public static string PatientReference(long siteId) => string.Create(CultureInfo.InvariantCulture, $"{Base}/sites/{siteId}/patient-reference");

    public static string Practitioners => $"{Base}/practitioners";

    public static string QuestionnaireUrl(string instrument) => $"{Base}/Questionnaire/{instrument}";

    public static string Answers(string instrument) => CodeSystem($"{instrument}-answers");

    public static string SubmissionIdentifier(string submissionId) => $"urn:uuid:{submissionId}";
}

/// <summary>
/// Maps stored records to Firely's R4 resources. The resource id is the record id (its first version's id), and
/// <c>meta.versionId</c> the id of the stored version, so <c>_history</c> lists the same versions as the native API.
/// </summary>
internal static class FhirMapping
{
    private static readonly string[] _painDisplay = ["Pain severity - 0-10 verbal numeric rating [Score] - Reported"];

    public static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    public static ResourceReference PatientReference(long patientId) => new($"Patient/{Id(patientId)}");

    /// <summary>A readable form of a camelCase code: <c>droopingEyelid</c> → "Drooping eyelid".</summary>
    public static string Words(string code)
    {
        var text = new System.Text.StringBuilder();
        foreach (var c in code)
        {
            if ((char.IsUpper(c) || (char.IsDigit(c) && text.Length > 0 && !char.IsDigit(text[^1]))) && text.Length > 0)
            {
                text.Append(' ').Append(char.ToLowerInvariant(c));
            }
            else
            {
                text.Append(text.Length == 0 ? char.ToUpperInvariant(c) : c == '_' ? ' ' : c);
            }
        }
        return text.ToString();
    }

    public static Patient Patient(PatientRow row, IReadOnlyList<string> conditions)
    {
        var patient = new Patient
        {
            Id = Id(row.Id),
            Meta = new Meta { VersionId = Id(row.Version), LastUpdated = row.UpdatedAt ?? row.CreatedAt },
            Identifier = [new Identifier(FhirSystems.PatientReference(row.SiteId), row.ExternalRef)],
            Active = true,
            Gender = EnumCode<Sex>.Parse(row.Sex) switch
            {
                Sex.Female => AdministrativeGender.Female,
                Sex.Male => AdministrativeGender.Male,
                Sex.Other => AdministrativeGender.Other,
                _ => AdministrativeGender.Unknown,
            },
            // Pseudonymous by design: the year of birth only, as a partial date, and no name.
            BirthDate = row.BirthYear.ToString("D4", CultureInfo.InvariantCulture),
        };
        foreach (var condition in conditions)
        {
            patient.Extension.Add(new Extension(FhirSystems.Extension("treated-condition"),
                new Coding(FhirSystems.CodeSystem("condition"), condition, Words(condition))));
        }
        patient.Extension.Add(new Extension(FhirSystems.Extension("enrolled-on"), Date(row.EnrolledOn)));
        return patient;
    }

    public static FhirDateTime Date(DateOnly date) => new(date.Year, date.Month, date.Day);

    private static Meta MetaOf(long versionId, DateTimeOffset updated) => new() { VersionId = Id(versionId), LastUpdated = updated };

    private static FhirObservationStatus StatusOf(ObservationResponse o) =>
        o.Status == StoredStatus.EnteredInError ? FhirObservationStatus.EnteredInError
        : o.SupersedesId is not null ? FhirObservationStatus.Amended
        : FhirObservationStatus.Final;

    private static Quantity Quantity(decimal value, string unit, string ucum) =>
        new() { Value = value, Unit = unit, System = FhirSystems.Ucum, Code = ucum };

    /// <summary>Every observation kind as an Observation; a questionnaire's total score is derived from its QuestionnaireResponse.</summary>
    public static Observation Observation(ObservationRow row, InstrumentDefinition? instrument)
    {
        var o = row.ToResponse();
        var observation = new Observation
        {
            Id = Id(o.RecordId),
            Meta = MetaOf(o.Id, o.ReceivedAt),
            Identifier = [Identifier(row.RecordSubmissionId ?? o.SubmissionId.ToString())],
            Status = StatusOf(o),
            Subject = PatientReference(o.PatientId),
            Effective = new FhirDateTime(o.AnsweredAt),
            Issued = o.ReceivedAt,
        };
        var reportedByPatient = o.RecordedByRole == Infrastructure.Roles.Patient;
        if (reportedByPatient)
        {
            observation.Performer = [PatientReference(o.PatientId)];
        }
        switch (o.Kind)
        {
            case ObservationKind.PainScore:
                observation.Category = [Category("survey", "Survey")];
                observation.Code = new CodeableConcept { Coding = [new Coding(FhirSystems.Loinc, FhirSystems.PainLoinc, _painDisplay[0])], Text = "Pain score (0-10)" };
                observation.Value = Quantity(o.Value!.Value, "score", "{score}");
                observation.Method = Concept(FhirSystems.CodeSystem("pain-recall"), o.Qualifier!);
                break;
            case ObservationKind.Questionnaire:
                observation.Category = [Category("survey", "Survey")];
                observation.Code = InstrumentScoreCode(o.Code, instrument);
                observation.Value = Quantity(o.Value!.Value, "score", "{score}");
                observation.DerivedFrom = [new ResourceReference($"QuestionnaireResponse/{Id(o.RecordId)}")];
                break;
            case ObservationKind.RangeOfMotion:
                observation.Category = [Category("exam", "Exam")];
                observation.Code = Concept(FhirSystems.CodeSystem("movement"), o.Code, Movements.Find(o.Code)?.Name);
                observation.Value = Quantity(o.Value!.Value, "degrees", "deg");
                observation.Method = Concept(FhirSystems.CodeSystem("rom-method"), o.Qualifier!);
                break;
            case ObservationKind.PressurePainThreshold:
                observation.Category = [Category("exam", "Exam")];
                observation.Code = Concept(FhirSystems.CodeSystem("measure"), "pressurePainThreshold", "Pressure pain threshold");
                observation.Value = Quantity(o.Value!.Value, "kg/cm2", "kg/cm2");
                observation.BodySite = MuscleSite(o.Code, o.BodySide!);
                break;
            case ObservationKind.SideEffect:
                // A patient's report of a symptom after an injection, not an adjudicated adverse event; and a report the
                // patient withdraws must read as entered-in-error, which R4's AdverseEvent (it has no status) cannot say.
                observation.Category = [Category("survey", "Survey")];
                observation.Code = Concept(FhirSystems.CodeSystem("side-effect"), o.Code);
                observation.Value = SeverityConcept(o.Qualifier!);
                observation.Component =
                [
                    new Observation.ComponentComponent
                    {
                        Code = Concept(FhirSystems.CodeSystem("measure"), "seriousness", "Seriousness"),
                        Value = new CodeableConcept(FhirSystems.Seriousness, o.Serious ? "serious" : "non-serious", o.Serious ? "Serious" : "Non-serious"),
                    },
                    new Observation.ComponentComponent
                    {
                        Code = Concept(FhirSystems.CodeSystem("measure"), "onset", "Onset"),
                        Value = Date(o.OnsetOn!.Value),
                    },
                ];
                if (o.Detail?.Note is { } note)
                {
                    observation.Note = [new Annotation { Text = new Markdown(note) }];
                }
                break;
        }
        return observation;
    }

    public static CodeableConcept InstrumentScoreCode(string instrumentCode, InstrumentDefinition? instrument)
    {
        var concept = new CodeableConcept { Text = instrument is null ? Words(instrumentCode) + " score" : $"{instrument.Name}: score" };
        if (instrument?.LoincScore is { } loinc)
        {
            concept.Coding.Add(new Coding(FhirSystems.Loinc, loinc));
        }
        concept.Coding.Add(new Coding(FhirSystems.CodeSystem("instrument"), instrumentCode));
        return concept;
    }

    public static QuestionnaireResponse QuestionnaireResponse(ObservationRow row)
    {
        var o = row.ToResponse();
        var response = new QuestionnaireResponse
        {
            Id = Id(o.RecordId),
            Meta = MetaOf(o.Id, o.ReceivedAt),
            Identifier = Identifier(row.RecordSubmissionId ?? o.SubmissionId.ToString()),
            Questionnaire = $"{FhirSystems.QuestionnaireUrl(o.Code)}|{o.InstrumentVersion}",
            Status = o.Status == StoredStatus.EnteredInError ? Hl7.Fhir.Model.QuestionnaireResponse.QuestionnaireResponseStatus.EnteredInError
                : o.SupersedesId is not null ? Hl7.Fhir.Model.QuestionnaireResponse.QuestionnaireResponseStatus.Amended
                : Hl7.Fhir.Model.QuestionnaireResponse.QuestionnaireResponseStatus.Completed,
            Subject = PatientReference(o.PatientId),
            AuthoredElement = new FhirDateTime(o.AnsweredAt),
        };
        if (o.RecordedByRole == Infrastructure.Roles.Patient)
        {
            response.Source = PatientReference(o.PatientId);
        }
        foreach (var answer in o.Detail?.Answers ?? [])
        {
            DataType value = answer.Option is { } option
                ? new Coding(FhirSystems.Answers(o.Code), option, Words(option))
                : new Integer(answer.Value);
            response.Item.Add(new QuestionnaireResponse.ItemComponent
            {
                LinkId = answer.Item,
                Answer = [new QuestionnaireResponse.AnswerComponent { Value = value }],
            });
        }
        return response;
    }

    /// <summary>A resource id for an instrument version: FHIR ids take letters, digits, '-' and '.'.</summary>
    public static string QuestionnaireId(InstrumentDefinition d) => $"{d.Code.Replace('_', '-')}-{d.Version}";

    public static Questionnaire Questionnaire(InstrumentDefinition d)
    {
        var questionnaire = new Questionnaire
        {
            Id = QuestionnaireId(d),
            Url = FhirSystems.QuestionnaireUrl(d.Code),
            Version = d.Version,
            Name = new string([.. d.Code.Split('_').SelectMany(p => p.Length == 0 ? "" : char.ToUpperInvariant(p[0]) + p[1..])]),
            Title = d.Name,
            Status = PublicationStatus.Active,
            SubjectType = [ResourceType.Patient],
            // Item codes and scoring only: licensed wording is never shipped.
            Description = d.Source is null ? null : new Markdown(d.Source),
        };
        if (d.LoincPanel is { } panel)
        {
            questionnaire.Code = [new Coding(FhirSystems.Loinc, panel)];
        }
        foreach (var item in d.Items)
        {
            var component = new Questionnaire.ItemComponent
            {
                LinkId = item.Code,
                Text = item.Code,
                Required = d.MinAnsweredItems >= d.Items.Count,
            };
            if (item.Loinc is { } loinc)
            {
                component.Code = [new Coding(FhirSystems.Loinc, loinc)];
            }
            if (item.IsCategorical)
            {
                component.Type = Hl7.Fhir.Model.Questionnaire.QuestionnaireItemType.Choice;
                component.AnswerOption = [.. item.Options!.Select(option => new Questionnaire.AnswerOptionComponent
                {
                    Value = new Coding(FhirSystems.Answers(d.Code), option.Code, Words(option.Code)),
                })];
            }
            else
            {
                component.Type = Hl7.Fhir.Model.Questionnaire.QuestionnaireItemType.Integer;
                if (item.Min is { } min)
                {
                    component.Extension.Add(new Extension("http://hl7.org/fhir/StructureDefinition/minValue", new Integer(min)));
                }
                if (item.Max is { } max)
                {
                    component.Extension.Add(new Extension("http://hl7.org/fhir/StructureDefinition/maxValue", new Integer(max)));
                }
            }
            questionnaire.Item.Add(component);
        }
        return questionnaire;
    }

    /// <summary>A treatment session: the product as the code used, each injection site as a body site and, with its units, as an extension.</summary>
    public static Procedure Procedure(SessionRow row, IEnumerable<InjectionSiteRow> sites)
    {
        var procedure = new Procedure
        {
            Id = Id(row.RootId ?? row.Id),
            Meta = MetaOf(row.Id, row.CreatedAt),
            Status = row.EnteredInError ? EventStatus.EnteredInError : EventStatus.Completed,
            Category = Concept(FhirSystems.CodeSystem("procedure-category"), "botulinumToxinInjection", "Botulinum toxin injection"),
            Code = new CodeableConcept
            {
                Coding = [new Coding(FhirSystems.CodeSystem("procedure"), "triggerPointInjection", "Botulinum toxin injection into trigger points")],
                Text = "Botulinum toxin injection into trigger points",
            },
            Subject = PatientReference(row.PatientId),
            Performed = Date(row.SessionDate),
            Performer =
            [
                new Procedure.PerformerComponent
                {
                    Actor = new ResourceReference { Identifier = new Identifier(FhirSystems.Practitioners, Id(row.PractitionerId)), Display = "Practitioner " + Id(row.PractitionerId) },
                },
            ],
            UsedCode = [Concept(FhirSystems.CodeSystem("product"), row.Product)],
        };
        if ((row.RecordSubmissionId ?? row.SubmissionId) is { } submission)
        {
            procedure.Identifier = [Identifier(submission)];
        }
        procedure.Extension.Add(new Extension(FhirSystems.Extension("guidance"), new Coding(FhirSystems.CodeSystem("guidance"), row.Guidance, Words(row.Guidance))));
        procedure.Extension.Add(new Extension(FhirSystems.Extension("dilution"), new Quantity
        {
            Value = row.DilutionUnitsPerMl, Unit = "units/mL", System = FhirSystems.Ucum, Code = "[U]/mL",
        }));
        procedure.Extension.Add(new Extension(FhirSystems.Extension("total-units"), Quantity(row.TotalUnits, "units", "[U]")));
        foreach (var site in sites)
        {
            var bodySite = MuscleSite(site.Muscle, site.Side);
            procedure.BodySite.Add(bodySite);
            procedure.Extension.Add(new Extension
            {
                Url = FhirSystems.Extension("injection-site"),
                Extension =
                [
                    new Extension("muscle", new Coding(FhirSystems.CodeSystem("muscle"), site.Muscle, Muscles.Find(site.Muscle)?.Name)),
                    new Extension("side", new Code(site.Side)),
                    new Extension("units", Quantity(site.Units, "units", "[U]")),
                ],
            });
        }
        if (row.HighDoseReason is { } reason)
        {
            procedure.Note = [new Annotation { Text = new Markdown("High dose confirmed: " + reason) }];
        }
        return procedure;
    }

    private static CodeableConcept MuscleSite(string muscle, string side)
    {
        var name = Muscles.Find(muscle)?.Name ?? Words(muscle);
        return new CodeableConcept
        {
            Coding = [new Coding(FhirSystems.CodeSystem("muscle"), muscle, name)],
            Text = $"{name}, {side}",
        };
    }

    private static CodeableConcept SeverityConcept(string severity)
    {
        var snomed = severity switch
        {
            "mild" => "255604002",
            "moderate" => "6736007",
            _ => "24484000",
        };
        return new CodeableConcept
        {
            Coding = [new Coding(FhirSystems.Snomed, snomed, Words(severity)), new Coding(FhirSystems.CodeSystem("severity"), severity, Words(severity))],
            Text = Words(severity),
        };
    }

    private static Identifier Identifier(string submissionId) => new(FhirSystems.Uri, FhirSystems.SubmissionIdentifier(submissionId));

    private static CodeableConcept Category(string code, string display) =>
        new() { Coding = [new Coding(FhirSystems.ObservationCategory, code, display)] };

    private static CodeableConcept Concept(string system, string code, string? display = null) =>
        new() { Coding = [new Coding(system, code, display ?? Words(code))], Text = display ?? Words(code) };
}
