using System.Net;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Fhir;

/// <summary>The facade is guarded as the native API is: rate limited, never cached, answered in FHIR's form when refused.</summary>
public abstract class FhirHardeningTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : FhirHardeningTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : FhirHardeningTests(DatabaseProvider.SqlServer);

    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["RateLimiting:PermitLimit"] = "30",
        ["RateLimiting:WindowSeconds"] = "3600",
    };

    [SkippableFact]
    public async Task PatientData_IsNeverCached_AndTheRateLimitCoversTheFacade()
    {
        var f = await PatientFixture.CreateAsync(App);
        var client = f.Patient;

        var read = await client.GetAsync($"/fhir/Patient/{f.PatientId}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.True(read.Headers.CacheControl?.NoStore);

        HttpResponseMessage? limited = null;
        for (var i = 0; i < 40 && limited is null; i++)
        {
            var response = await client.GetAsync($"/fhir/Observation?patient={f.PatientId}");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }
        Assert.NotNull(limited);
        var outcome = await FhirKit.OutcomeAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.Equal(Hl7.Fhir.Model.OperationOutcome.IssueType.Throttled, outcome.Issue.Single().Code);
    }
}
