using System.Collections.Frozen;

namespace Outcomes.Core.Clinic;

/// <summary>A muscle that may hold an injected trigger point.</summary>
/// <param name="Code">Stable code stored with each injection site.</param>
/// <param name="Name">Display name.</param>
/// <param name="Region">Body region, for grouping in a client.</param>
public sealed record Muscle(string Code, string Name, string Region);

/// <summary>
/// The catalogue of muscles an injection site may name. Codes are stored, so a code is never
/// renamed or removed; new muscles are appended.
/// </summary>
public static class Muscles
{
    public static IReadOnlyList<Muscle> All { get; } =
    [
        new("frontalis", "Frontalis", "head"),
        new("temporalis", "Temporalis", "head"),
        new("occipitalis", "Occipitalis", "head"),
        new("masseter", "Masseter", "head"),
        new("corrugator", "Corrugator supercilii", "head"),
        new("procerus", "Procerus", "head"),
        new("splenius_capitis", "Splenius capitis", "neck"),
        new("splenius_cervicis", "Splenius cervicis", "neck"),
        new("semispinalis_capitis", "Semispinalis capitis", "neck"),
        new("suboccipital", "Suboccipital muscles", "neck"),
        new("sternocleidomastoid", "Sternocleidomastoid", "neck"),
        new("scalene_anterior", "Anterior scalene", "neck"),
        new("scalene_medius", "Middle scalene", "neck"),
        new("cervical_paraspinal", "Cervical paraspinal muscles", "neck"),
        new("upper_trapezius", "Upper trapezius", "shoulder"),
        new("middle_trapezius", "Middle trapezius", "shoulder"),
        new("lower_trapezius", "Lower trapezius", "shoulder"),
        new("levator_scapulae", "Levator scapulae", "shoulder"),
        new("rhomboid_major", "Rhomboid major", "shoulder"),
        new("rhomboid_minor", "Rhomboid minor", "shoulder"),
        new("supraspinatus", "Supraspinatus", "shoulder"),
        new("infraspinatus", "Infraspinatus", "shoulder"),
        new("teres_major", "Teres major", "shoulder"),
        new("pectoralis_minor", "Pectoralis minor", "shoulder"),
        new("latissimus_dorsi", "Latissimus dorsi", "back"),
        new("thoracic_paraspinal", "Thoracic paraspinal muscles", "back"),
        new("quadratus_lumborum", "Quadratus lumborum", "low_back"),
        new("lumbar_paraspinal", "Lumbar paraspinal muscles (erector spinae)", "low_back"),
        new("multifidus", "Multifidus", "low_back"),
        new("iliopsoas", "Iliopsoas", "hip"),
        new("gluteus_medius", "Gluteus medius", "hip"),
        new("gluteus_minimus", "Gluteus minimus", "hip"),
        new("piriformis", "Piriformis", "hip"),
    ];

    private static readonly FrozenDictionary<string, Muscle> _byCode =
        All.ToFrozenDictionary(m => m.Code, StringComparer.Ordinal);

    public static bool IsKnown(string? code) => code is not null && _byCode.ContainsKey(code);

    public static Muscle? Find(string code) => _byCode.GetValueOrDefault(code);
}
