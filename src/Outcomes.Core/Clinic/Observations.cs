using System.Collections.Frozen;

namespace Outcomes.Core.Clinic;

/// <summary>What a submitted observation records.</summary>
public enum ObservationKind
{
    PainScore,
    Questionnaire,
    RangeOfMotion,
    PressurePainThreshold,
    SideEffect,
}

/// <summary>Recall period of a pain rating.</summary>
public enum PainRecall
{
    Current,
    Average7Days,
    Worst7Days,
}

/// <summary>How a range of motion was measured.</summary>
public enum RomMethod
{
    Goniometer,
    Inclinometer,
    CromDevice,
    VisualEstimate,
}

/// <summary>Side effects patients report after botulinum toxin injections (docs/clinical-definitions.md).</summary>
public enum SideEffect
{
    MuscleWeakness,
    InjectionSitePain,
    Bruising,
    Headache,
    FluLikeSymptoms,
    DifficultySwallowing,
    DroopingEyelid,
    BreathingDifficulty,
    Other,
}

public enum Severity
{
    Mild,
    Moderate,
    Severe,
}

/// <summary>A joint movement whose range is measured in degrees; higher is better.</summary>
/// <param name="Code">Stable code.</param>
/// <param name="Name">Display name.</param>
/// <param name="MaxDegrees">
/// The most the movement can physically reach: our limit, set generously above healthy ranges
/// (healthy cervical rotation reaches about 80–90°). Anything above is a typo.
/// </param>
public sealed record Movement(string Code, string Name, int MaxDegrees);

public static class Movements
{
    public static IReadOnlyList<Movement> All { get; } =
    [
        new("cervical_flexion", "Cervical flexion", 90),
        new("cervical_extension", "Cervical extension", 100),
        new("cervical_lateral_flexion_left", "Cervical lateral flexion, left", 70),
        new("cervical_lateral_flexion_right", "Cervical lateral flexion, right", 70),
        new("cervical_rotation_left", "Cervical rotation, left", 110),
        new("cervical_rotation_right", "Cervical rotation, right", 110),
        new("lumbar_flexion", "Lumbar flexion", 120),
        new("lumbar_extension", "Lumbar extension", 60),
        new("lumbar_lateral_flexion_left", "Lumbar lateral flexion, left", 60),
        new("lumbar_lateral_flexion_right", "Lumbar lateral flexion, right", 60),
        new("shoulder_abduction_left", "Shoulder abduction, left", 180),
        new("shoulder_abduction_right", "Shoulder abduction, right", 180),
        new("shoulder_flexion_left", "Shoulder flexion, left", 180),
        new("shoulder_flexion_right", "Shoulder flexion, right", 180),
    ];

    private static readonly FrozenDictionary<string, Movement> _byCode = All.ToFrozenDictionary(m => m.Code, StringComparer.Ordinal);

    public static Movement? Find(string? code) => code is null ? null : _byCode.GetValueOrDefault(code);
}

public static class ObservationRules
{
    /// <summary>Highest pressure pain threshold accepted, kg/cm² (algometers read to about 10–20).</summary>
    public const decimal MaxPressurePainThreshold = 20m;

    /// <summary>How far in the future an <c>answeredAt</c> may lie: clock drift on a phone.</summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(5);

    public const int MaxReasonLength = 500;
    public const int MaxNoteLength = 200;

    /// <summary>
    /// A side effect is serious when it is one of the rare, dangerous ones after neck injections
    /// (difficulty swallowing, drooping eyelid, breathing difficulty), or when rated severe.
    /// </summary>
    public static bool IsSerious(SideEffect effect, Severity severity) =>
        effect is SideEffect.DifficultySwallowing or SideEffect.DroopingEyelid or SideEffect.BreathingDifficulty
        || severity == Severity.Severe;
}
