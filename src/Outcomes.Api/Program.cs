using Outcomes.Api.Data;
using Outcomes.Api.Features.Alerts;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Catalogue;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Features.DemoData;
using Outcomes.Api.Features.Devices;
using Outcomes.Api.Features.Fhir;
using Outcomes.Api.Features.Due;
using Outcomes.Api.Features.Health;
using Outcomes.Api.Features.Import;
using Outcomes.Api.Features.Instruments;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Features.PatientOutcomes;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Features.Practitioners;
using Outcomes.Api.Features.Sites;
using Outcomes.Api.Features.TreatmentSessions;
using Outcomes.Api.Infrastructure;

var commandLine = CommandLine.Parse(args);
if (commandLine.Command == Command.Help)
{
    Console.WriteLine(CommandLine.Usage);
    return 0;
}
if (commandLine.Error is { } usage)
{
    await Console.Error.WriteLineAsync($"Outcomes: {usage}. See --help.");
    return CommandLine.UsageExitCode;
}

WebApplication? app = null;
try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddOutcomes();
    app = builder.Build();

    // Operator commands: `migrate` applies pending migrations and exits;
    // `demo-data [--patients N] [--seed S]` migrates, then fills the database with a synthetic clinic.
    var health = app.Services.GetRequiredService<DatabaseHealth>();
    var migrator = app.Services.GetRequiredService<Migrator>();
    switch (commandLine.Command)
    {
        case Command.Migrate:
            await health.PrepareAsync(migrator, migrate: true, CancellationToken.None);
            return 0;
        case Command.DemoData:
            await health.PrepareAsync(migrator, migrate: true, CancellationToken.None);
            return await DemoDataCommand.RunAsync(app.Services, commandLine.Patients, commandLine.Seed);
    }

    var migrate = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DatabaseOptions>>().Value.ShouldMigrateOnStartup;
    await health.PrepareAsync(migrator, migrate, CancellationToken.None);

    app.UseOutcomes();
    app.MapHealth();
    app.MapCatalogue();
    app.MapSites();
    app.MapPractitioners();
    app.MapPatientSummaries();
    app.MapPatients();
    app.MapPatientCorrections();
    app.MapTreatmentSessions();
    app.MapInstruments();
    app.MapInstrumentWording();
    app.MapSubmissions();
    app.MapObservations();
    app.MapDue();
    app.MapImport();
    app.MapPatientOutcomes();
    app.MapCohorts();
    app.MapAudit();
    app.MapAlerts();
    app.MapWebhooks();
    app.MapDevices();
    app.MapFhir();
    app.MapWebClient();

    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e is not HostAbortedException)
{
    return StartupFailure.Report(e, app?.Services);
}
finally
{
    // Closes what the services hold open (the SQLite connections the pool keeps), so that the last close
    // checkpoints the write-ahead log into the database file, after a command as after a run.
    if (app is not null)
    {
        await app.DisposeAsync();
    }
}

/// <summary>Entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
