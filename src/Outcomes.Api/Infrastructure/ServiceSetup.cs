using Outcomes.Api.Data;
using Outcomes.Api.Features.Alerts;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Features.Devices;
using Outcomes.Api.Features.Due;
using Outcomes.Api.Features.Fhir;
using Outcomes.Api.Features.Import;
using Outcomes.Api.Features.Instruments;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Features.PatientOutcomes;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Features.Practitioners;
using Outcomes.Api.Features.Sites;
using Outcomes.Api.Features.TreatmentSessions;

namespace Outcomes.Api.Infrastructure;

public static class ServiceSetup
{
    public static WebApplicationBuilder AddOutcomes(this WebApplicationBuilder builder)
    {
        var services = builder.Services;

        services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<Database>();
        services.AddSingleton<GroupCommit>();
        services.AddSingleton<Migrator>();
        services.AddSingleton<TimeProvider, StoredClock>();
        services.AddHttpContextAccessor();

        // Each feature's SQL, built once for the configured dialect.
        services.AddSingleton(sp => new AuditSql(Dialect(sp)));
        services.AddSingleton(sp => new SchemaSql(Dialect(sp)));
        services.AddSingleton<DatabaseHealth>();
        services.AddSingleton(sp => new SiteSql(Dialect(sp)));
        services.AddSingleton(sp => new PractitionerSql(Dialect(sp)));
        services.AddSingleton(sp => new PatientSql(Dialect(sp)));
        services.AddSingleton(sp => new PatientCorrectionSql(Dialect(sp)));
        services.AddSingleton(sp => new PatientAccessSql(Dialect(sp)));
        services.AddSingleton(sp => new TreatmentSessionSql(Dialect(sp)));
        services.AddSingleton(sp => new InstrumentSql(Dialect(sp)));
        services.AddSingleton(sp => new WordingSql(Dialect(sp)));
        services.AddSingleton(sp => new ObservationSql(Dialect(sp)));
        services.AddSingleton(sp => new DueSql(Dialect(sp)));
        services.AddSingleton(sp => new ImportSql(Dialect(sp)));
        services.AddSingleton(sp => new MeasureSql(Dialect(sp)));
        services.AddSingleton(sp => new PatientOutcomesSql(Dialect(sp)));
        services.AddSingleton(sp => new PatientSummarySql(Dialect(sp)));
        services.AddSingleton(sp => new CohortSql(Dialect(sp)));
        services.AddSingleton<CohortReader>();
        services.AddSingleton<CohortCycleCache>();
        services.AddSingleton<CohortProgressCache>();
        services.AddSingleton(sp => new SeriesSql(Dialect(sp)));
        services.AddSingleton<SeriesRefresher>();
        services.AddOptions<PatientListOptions>()
            .BindConfiguration(PatientListOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<PatientSummaryCache>();
        services.AddSingleton<PainCycleCache>();
        services.AddOptions<SeriesOptions>()
            .BindConfiguration("Cohorts:Series")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddHostedService<SeriesRefreshLoop>();
        services.AddScoped<CohortService>();
        services.AddOptions<CohortOptions>()
            .BindConfiguration(CohortOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<InstrumentCatalog>();
        services.AddSingleton<MeasureCatalog>();
        services.AddScoped<OutcomesReader>();
        services.AddSingleton<MeasureProgressCache>();
        services.AddSingleton<PatientAnswerCache>();
        services.AddOptions<OutcomesOptions>()
            .BindConfiguration(OutcomesOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton(sp => new AlertSql(Dialect(sp)));
        services.AddSingleton(sp => new AlertScanSql(Dialect(sp)));
        services.AddSingleton(sp => new WebhookSql(Dialect(sp)));
        services.AddSingleton(sp => new DispatchSql(Dialect(sp)));
        services.AddSingleton<WebhookSignal>();
        services.AddSingleton<AlertWriter>();
        services.AddSingleton<AlertScanner>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        services.AddHostedService<AlertScanLoop>();
        services.AddOptions<AlertOptions>()
            .BindConfiguration(AlertOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddScoped<ImportWriter>();
        services.AddScoped<ObservationStore>();
        services.AddScoped<SessionWriter>();
        services.AddScoped<AuditLog>();
        services.AddScoped<PatientAccess>();

        services.AddOutcomesAuth();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, AuditingAuthorizationResultHandler>();
        services.AddOutcomesAbuseProtection(builder.Configuration);
        services.AddSingleton(sp => new AuditQuerySql(Dialect(sp)));
        services.AddOptions<WebClientOptions>().BindConfiguration(WebClientOptions.Section);
        services.AddSingleton(sp => new DeviceSql(Dialect(sp)));
        services.AddSingleton<DeviceTokenIssuer>();
        services.AddOptions<DeviceOptions>()
            .BindConfiguration(DeviceOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.SigningKey is not { Length: > 0 } || IsKey(o.SigningKey), "Devices:SigningKey must be base64 of at least 32 bytes")
            .ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IPostConfigureOptions<Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerOptions>, DeviceTokenValidation>();
        services.AddSingleton(sp => new FhirSql(Dialect(sp)));
        services.AddSingleton(sp => new BulkExportSql(Dialect(sp)));
        services.AddScoped<FhirReader>();
        services.AddScoped<BulkExportService>();
        services.AddSingleton<BulkExportSignal>();
        services.AddSingleton<BulkExportWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<BulkExportWorker>());
        services.AddOptions<FhirOptions>()
            .BindConfiguration(FhirOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // Problems on /fhir are written as OperationOutcomes; this writer is asked before the default one.
        services.AddSingleton<IProblemDetailsWriter, FhirProblemWriter>();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            if (context.HttpContext.Items.TryGetValue(Features.Devices.DeviceTokenValidation.ChallengeDetailKey, out var challenge))
            {
                context.ProblemDetails.Detail ??= challenge as string;
            }
            // Answers the framework writes itself (no endpoint, wrong method or media type) say what to do.
            context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
            {
                StatusCodes.Status404NotFound => "There is nothing at this path; the API is under /api/v1 (see /swagger).",
                StatusCodes.Status405MethodNotAllowed => "This path does not take that method.",
                StatusCodes.Status415UnsupportedMediaType => "Send the body as application/json.",
                _ => null,
            };
        });
        services.AddExceptionHandler<OutcomesExceptionHandler>();
        services.ConfigureHttpJsonOptions(o => JsonSetup.Configure(o.SerializerOptions));
        // Malformed bodies throw, so the exception handler can name the offending field.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddOutcomesOpenApi();
        // Answers are compressed for clients that ask (Accept-Encoding: br or gzip), at the balanced level: a five-year
        // patient's outcomes shrink from 78 KB to 6.3-6.6 KB (the fastest level gave 19 KB, as the middleware flushes
        // in pieces). Over HTTPS too: BREACH needs a victim's browser to send credentials by itself (cookies), and this
        // API takes bearer tokens only.
        services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true;
            o.Providers.Add<Microsoft.AspNetCore.ResponseCompression.BrotliCompressionProvider>();
            o.Providers.Add<Microsoft.AspNetCore.ResponseCompression.GzipCompressionProvider>();
            o.MimeTypes = [.. Microsoft.AspNetCore.ResponseCompression.ResponseCompressionDefaults.MimeTypes, "application/problem+json", "text/csv", "image/svg+xml",
                FhirJson.MediaType, FhirJson.NdjsonMediaType];
        });
        services.Configure<Microsoft.AspNetCore.ResponseCompression.BrotliCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Optimal);
        services.Configure<Microsoft.AspNetCore.ResponseCompression.GzipCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Optimal);
        return builder;
    }

    public static WebApplication UseOutcomes(this WebApplication app)
    {
        app.UseMiddleware<RequestLoggingMiddleware>();
        app.UseResponseCompression();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<SecurityHeadersMiddleware>();
        // The web client's files, before authorization: they are public, the data they fetch is not.
        app.UseWebClient();
        app.UseRouting();
        app.UseMiddleware<BodySizeLimitMiddleware>();
        app.UseMiddleware<JsonBodyBuffering>();
        app.UseMiddleware<SchemaGateMiddleware>();
        // The Swagger UI is static documentation: served before authentication, to anyone.
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/openapi/v1.json", "Outcomes API v1");
            o.RoutePrefix = "swagger";
        });
        app.UseCors();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();

        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        return app;
    }

    private static SqlDialect Dialect(IServiceProvider sp) => sp.GetRequiredService<Database>().Dialect;

    private static bool IsKey(string base64)
    {
        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, buffer, out var length) && length >= 32;
    }
}
