using Hl7.Fhir.Model;

namespace Outcomes.Api.Tests.Fhir;

/// <summary>The validator the FHIR tests lean on can fail: it refuses what base R4 refuses.</summary>
public sealed class FhirValidatorTests
{
    [Fact]
    public void AnObservationWithoutStatusOrCode_IsRefused()
    {
        var invalid = new Observation { Subject = new ResourceReference("Patient/1") };

        var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => FhirKit.AssertValid(invalid));

        Assert.Contains("status", failure.Message, StringComparison.Ordinal);
        Assert.Contains("code", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AQuantityWithAUnitCodeButNoSystem_IsRefused()
    {
        // qty-3: if a code for the unit is present, the system SHALL also be present.
        var invalid = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "72514-3"),
            Value = new Quantity { Value = 3, Code = "{score}" },
        };

        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => FhirKit.AssertValid(invalid));
    }
}
