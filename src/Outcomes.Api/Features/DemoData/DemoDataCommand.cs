using System.Globalization;
using Dapper;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Features.Practitioners;
using Outcomes.Api.Features.Sites;
using Outcomes.Api.Features.TreatmentSessions;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;
using Outcomes.Core.Instruments;
using Spectre.Console;

namespace Outcomes.Api.Features.DemoData;

/// <summary>
/// Fills an empty database with a synthetic clinic network: sites, practitioners, pseudonymous
/// patients across the conditions, treatment sessions every 3 to 6 months, weekly pain scores,
/// the conditions' questionnaires around each session, range of motion for neck patients and a few
/// side effects. Patients respond, partly respond or do not (<see cref="DemoResponse"/>), with
/// relief within days and wear-off over months. Deterministic for a given seed. Every value is
/// invented; none comes from a real person.
/// </summary>
public static class DemoDataCommand
{
    public const string Actor = "demo-data";

    public static async Task<int> RunAsync(IServiceProvider services, int patients, int seed)
    {
        var db = services.GetRequiredService<Database>();
        var clock = services.GetRequiredService<TimeProvider>();
        var summary = await WithProgressAsync(patients, progress => GenerateAsync(db, clock, patients, seed, CancellationToken.None, progress));
        if (summary is null)
        {
            await Console.Error.WriteLineAsync("The database already holds sites; demo data goes into an empty database only.");
            return 1;
        }
        // Build the cohort series now, so that the first cohort query does not pay for it.
        var series = await services.GetRequiredService<Cohorts.SeriesRefresher>().RefreshAsync(CancellationToken.None);
        Console.WriteLine(summary.Describe(series ?? 0));
        return 0;
    }

    /// <summary>
    /// Runs <paramref name="work"/> with progress: a bar on a terminal (Spectre.Console), and a plain
    /// line at every tenth otherwise (a log, a pipe, CI).
    /// </summary>
    private static async Task<T> WithProgressAsync<T>(int total, Func<IProgress<int>, Task<T>> work)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await AnsiConsole.Progress().StartAsync(async context =>
            {
                var task = context.AddTask("Generating patients", maxValue: total);
                return await work(new SyncProgress(done => task.Value = done));
            });
        }
        var reported = 0;
        return await work(new SyncProgress(done =>
        {
            var tenth = done * 10 / total;
            if (tenth > reported)
            {
                reported = tenth;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"demo-data: {done} of {total} patients generated"));
            }
        }));
    }

    /// <summary>Reports on the caller's thread (<see cref="Progress{T}"/> would post to the thread pool, out of order).</summary>
    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }

    /// <param name="FirstSite">The first site, its id and name: what a practitioner's token names.</param>
    /// <param name="FirstPatient">The first patient's id and external reference: what a patient's token names.</param>
    public sealed record Summary(
        int Sites, int Practitioners, int Patients, int Sessions, int InjectionSites, int Observations,
        (long Id, string Name) FirstSite, long FirstPractitioner, (long Id, string Reference) FirstPatient)
    {
        /// <summary>What was made, in words, and the tokens the README's examples should use for it.</summary>
        public string Describe(int seriesBuilt) => string.Create(CultureInfo.InvariantCulture, $"""
            Demo data: {Sites} sites, {Practitioners} practitioners, {Patients} patients, {Sessions} treatment sessions
            ({InjectionSites} injection sites) and {Observations} observations, all invented. Cohort series built for {seriesBuilt} patients.

            To try it, create tokens (Development environment; see README), then start the service:
              an admin:         dotnet user-jwts create --project src/Outcomes.Api --role admin --name demo-admin
              a practitioner:   dotnet user-jwts create --project src/Outcomes.Api --role practitioner --claim site_id={FirstSite.Id} --claim practitioner_id={FirstPractitioner} --name demo-practitioner
                                (practitioner {FirstPractitioner} at site {FirstSite.Id}, {FirstSite.Name})
              a patient:        dotnet user-jwts create --project src/Outcomes.Api --role patient --claim patient_id={FirstPatient.Id} --name demo-patient
                                (patient {FirstPatient.Id}, {FirstPatient.Reference}, at site {FirstSite.Id})
              an auditor:       dotnet user-jwts create --project src/Outcomes.Api --role auditor --name demo-auditor
            """);
    }

    /// <summary>Generates the data in one transaction; null when the database is not empty.</summary>
    public static async Task<Summary?> GenerateAsync(
        Database db, TimeProvider clock, int patientCount, int seed, CancellationToken ct, IProgress<int>? progress = null)
    {
        var d = db.Dialect;
        var siteSql = new SiteSql(d);
        var practitionerSql = new PractitionerSql(d);
        var patientSql = new PatientSql(d);
        var sessionSql = new TreatmentSessionSql(d);
        var auditSql = new AuditSql(d);
        var observationSql = new ObservationSql(d);
        var random = new Random(seed);
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);

        await using var connection = await db.OpenAsync(ct);
        if ((await connection.QueryAsync<Sites.SiteRow>(db.Command(siteSql.All, null, ct))).Any())
        {
            return null;
        }
        using var writeTurn = await db.EnterWriteAsync(connection, ct);
        await using var tx = await connection.BeginTransactionAsync(ct);

        string[] siteNames = ["Northgate Pain Clinic", "Riverside Musculoskeletal Centre", "Hillview Headache Service", "Harbour Spine Unit"];
        var practitionersBySite = new Dictionary<long, List<long>>();
        var practitionerCount = 0;
        foreach (var name in siteNames)
        {
            var siteId = await connection.ExecuteScalarAsync<long>(db.Command(siteSql.Insert,
                new { Name = name, CreatedAt = now, CreatedBy = Actor }, ct, tx));
            var ids = new List<long>();
            for (var i = 0; i < random.Next(2, 5); i++)
            {
                ids.Add(await connection.ExecuteScalarAsync<long>(db.Command(practitionerSql.Insert, new
                {
                    SiteId = siteId,
                    DisplayName = $"Practitioner {(char)('A' + i)} ({name.Split(' ')[0]})",
                    CreatedAt = now,
                    CreatedBy = Actor,
                }, ct, tx)));
            }
            practitionersBySite[siteId] = ids;
            practitionerCount += ids.Count;
        }

        var siteIds = practitionersBySite.Keys.ToArray();
        (long Id, string Reference)? firstPatient = null;
        var conditions = Enum.GetValues<Condition>();
        var sessionCount = 0;
        var injectionSiteCount = 0;
        var observationCount = 0;
        for (var p = 0; p < patientCount; p++)
        {
            var siteId = siteIds[random.Next(siteIds.Length)];
            var enrolledOn = today.AddDays(-random.Next(30, 365 * 5 + 1));
            var patientId = await connection.ExecuteScalarAsync<long>(db.Command(patientSql.Insert, new
            {
                SiteId = siteId,
                ExternalRef = $"DEMO-{siteId}-{p + 1:D6}",
                BirthYear = today.Year - random.Next(20, 80),
                Sex = EnumCode<Sex>.Of(random.NextDouble() < 0.62 ? Sex.Female : Sex.Male),
                EnrolledOn = enrolledOn,
                CreatedAt = now,
                CreatedBy = Actor,
            }, ct, tx));
            var patientConditions = conditions.OrderBy(_ => random.Next()).Take(random.NextDouble() < 0.75 ? 1 : 2).ToList();
            await connection.ExecuteAsync(db.Command(patientSql.InsertCondition,
                patientConditions.Select(c => new { PatientId = patientId, Condition = EnumCode<Condition>.Of(c) }), ct, tx));

            var product = (Product)random.Next(3);
            var guidance = (Guidance)random.Next(3);
            var practitioners = practitionersBySite[siteId];
            var sessionDates = new List<DateOnly>();
            for (var date = enrolledOn.AddDays(random.Next(0, 21)); date <= today; date = date.AddDays(random.Next(90, 184)))
            {
                var sites = DemoInjectionSites(random, product);
                var sessionId = await connection.ExecuteScalarAsync<long>(db.Command(sessionSql.Insert, new
                {
                    PatientId = patientId,
                    PractitionerId = practitioners[random.Next(practitioners.Count)],
                    SessionDate = date,
                    Product = EnumCode<Product>.Of(product),
                    Guidance = EnumCode<Guidance>.Of(guidance),
                    DilutionUnitsPerMl = product == Product.AbobotulinumtoxinA ? 200m : 50m,
                    TotalUnits = SessionRules.TotalUnits(sites),
                    CreatedAt = now,
                    CreatedBy = Actor,
                    SubmissionId = (string?)null, // generated, not submitted: nothing to retry
                    PayloadHash = (string?)null,
                    SupersedesId = (long?)null,
                    RootId = (long?)null,
                    EnteredInError = false,
                    ChangeReason = (string?)null,
                    HighDoseReason = (string?)null,
                }, ct, tx));
                await connection.ExecuteAsync(db.Command(sessionSql.InsertSite, sites.Select(s => new
                {
                    SessionId = sessionId,
                    s.Muscle,
                    Side = EnumCode<BodySide>.Of(s.Side),
                    s.Units,
                }), ct, tx));
                sessionCount++;
                injectionSiteCount += sites.Count;
                sessionDates.Add(date);
            }

            var observations = DemoObservations(random, patientId, enrolledOn, now, patientConditions, sessionDates);
            // As the bulk import writes them (on SQLite the patient's rows in two statements, not one each).
            await ObservationBatchInsert.InsertAsync(connection, tx, observations, db, observationSql, ct);
            observationCount += observations.Count;
            firstPatient ??= (patientId, $"DEMO-{siteId}-{p + 1:D6}");
            progress?.Report(p + 1);
        }

        await connection.ExecuteAsync(db.Command(auditSql.Insert, new
        {
            OccurredAt = now,
            Actor,
            Role = "(system)",
            Action = AuditActions.Create,
            ResourceType = "demo_data",
            ResourceId = seed.ToString(CultureInfo.InvariantCulture),
            PatientId = (long?)null,
            Outcome = AuditOutcomes.Success,
            RequestId = (string?)null,
            Detail = (string?)null,
            ActorPractitionerId = (long?)null,
        }, ct, tx));
        await tx.CommitAsync(ct);
        return new Summary(siteIds.Length, practitionerCount, patientCount, sessionCount, injectionSiteCount, observationCount,
            (siteIds[0], siteNames[0]), practitionersBySite[siteIds[0]][0], firstPatient!.Value);
    }

    private static List<ObservationRow> DemoObservations(
        Random random, long patientId, DateOnly enrolledOn, DateTimeOffset now, IReadOnlyList<Condition> conditions, List<DateOnly> sessions)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var patient = new CurrentUser(Actor, "patient", patientId, null);
        var practitioner = new CurrentUser(Actor, "practitioner", null, null);
        var response = DemoResponse.Draw(random);
        var rows = new List<ObservationRow>();
        var received = now;

        DateOnly? LatestSession(DateOnly day) => sessions.LastOrDefault(s => s <= day) is var s && s != default ? s : null;
        double Pain(DateOnly day) => LatestSession(day) is { } s ? response.PainAt(day.DayNumber - s.DayNumber) : response.BaselinePain;
        // In the evening; today's, by now at the latest: nothing is answered after the moment it is written
        // (a value dated later than the next real one would make that one out of order).
        DateTimeOffset At(DateOnly day)
        {
            var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(17 + random.Next(0, 5), random.Next(0, 60))), TimeSpan.Zero);
            return at <= now ? at : now;
        }
        void Add(CurrentUser by, NewObservation o) =>
            rows.Add(ObservationStore.InsertParameters(by, patientId, o, o.PayloadHash(), received, rootId: null));
        Guid NewId()
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            return new Guid(bytes);
        }

        // Weekly pain scores, about one week in ten missed.
        for (var week = enrolledOn; week <= today; week = week.AddDays(7))
        {
            var day = week.AddDays(random.Next(0, 7));
            if (day > today || random.NextDouble() < 0.1)
            {
                continue;
            }
            var score = Math.Clamp((int)Math.Round(Pain(day) + DemoResponse.Normal(random, 0, 0.8)), 0, 10);
            Add(patient, new NewObservation(ObservationKind.PainScore, "pain_nrs", At(day), NewId(), score, "1",
                EnumCode<PainRecall>.Of(PainRecall.Average7Days)));
        }

        // Questionnaires at baseline (a few days before each session) and weeks 6, 12 and 24 after it.
        var instruments = DueSchedule.InstrumentsFor(conditions)
            .Select(code => InstrumentJson.Shipped.Single(i => i.Code == code)).ToList();
        var pgic = InstrumentJson.Shipped.Single(i => i.Code == "pgic");
        var neck = conditions.Contains(Condition.NeckShoulderPain) || conditions.Contains(Condition.MyofascialPainSyndrome);
        for (var i = 0; i < sessions.Count; i++)
        {
            var session = sessions[i];
            var next = i + 1 < sessions.Count ? sessions[i + 1] : DateOnly.MaxValue;
            var timepoints = new[] { -3, 42, 84, 168 }.Select(d => session.AddDays(d + random.Next(-2, 3)))
                .Where(day => day >= enrolledOn && day <= today && day < next);
            foreach (var day in timepoints)
            {
                var pain = Pain(day);
                foreach (var instrument in day < session ? instruments : [.. instruments, pgic])
                {
                    var answers = instrument == pgic
                        ? [new ItemAnswer("change", Option: DemoAnswers.Pgic(1 - pain / response.BaselinePain))]
                        : DemoAnswers.For(instrument, pain / 10, random);
                    var scored = Scoring.Score(instrument, answers, new Core.Validation.ValidationErrors())!;
                    Add(patient, new NewObservation(ObservationKind.Questionnaire, instrument.Code, At(day), NewId(), scored.Score,
                        instrument.Version, Detail: new ObservationDetail(answers, scored.RawSum, scored.AnsweredItems)));
                }
            }

            // Cervical rotation measured at the session and at week 6, for neck and shoulder patients.
            if (neck)
            {
                foreach (var day in new[] { session, session.AddDays(42) }.Where(d => d <= today && d < next))
                {
                    var relief = 1 - Pain(day) / response.BaselinePain;
                    foreach (var movement in new[] { "cervical_rotation_left", "cervical_rotation_right" })
                    {
                        var degrees = Math.Clamp(Math.Round(52 + 25 * relief + DemoResponse.Normal(random, 0, 4)), 20, 90);
                        Add(practitioner, new NewObservation(ObservationKind.RangeOfMotion, movement, At(day), NewId(), (decimal)degrees,
                            Qualifier: EnumCode<RomMethod>.Of(RomMethod.CromDevice)));
                    }
                }
            }

            // About one session in seven brings a side effect; difficulty swallowing is rare and follows neck injections.
            if (random.NextDouble() < 0.15)
            {
                var roll = random.NextDouble();
                var effect = neck && roll < 0.03 ? SideEffect.DifficultySwallowing
                    : roll < 0.45 ? SideEffect.InjectionSitePain
                    : roll < 0.75 ? SideEffect.Bruising
                    : roll < 0.9 ? SideEffect.MuscleWeakness
                    : SideEffect.Headache;
                var severity = effect == SideEffect.DifficultySwallowing ? Severity.Moderate : random.NextDouble() < 0.8 ? Severity.Mild : Severity.Moderate;
                var onset = session.AddDays(random.Next(1, 5));
                var reported = onset.AddDays(random.Next(0, 3));
                if (reported <= today && reported < next)
                {
                    Add(patient, new NewObservation(ObservationKind.SideEffect, EnumCode<SideEffect>.Of(effect), At(reported), NewId(),
                        Qualifier: EnumCode<Severity>.Of(severity), OnsetOn: onset, Serious: ObservationRules.IsSerious(effect, severity)));
                }
            }
        }
        return rows;
    }

    private static readonly string[] _neckAndShoulder =
        ["upper_trapezius", "levator_scapulae", "splenius_capitis", "semispinalis_capitis", "rhomboid_major", "infraspinatus"];

    private static List<InjectionSite> DemoInjectionSites(Random random, Product product)
    {
        // Per-site doses in each product's own units: abobotulinumtoxinA is dosed about 2.5-3x higher.
        var (low, high) = product == Product.AbobotulinumtoxinA ? (25, 80) : (10, 30);
        return _neckAndShoulder.OrderBy(_ => random.Next()).Take(random.Next(2, 5))
            .SelectMany(m => new[] { BodySide.Left, BodySide.Right }
                .Where(_ => random.NextDouble() < 0.8)
                .Select(side => new InjectionSite(m, side, random.Next(low / 5, high / 5 + 1) * 5m)))
            .DefaultIfEmpty(new InjectionSite("upper_trapezius", BodySide.Right, low))
            .ToList();
    }
}
