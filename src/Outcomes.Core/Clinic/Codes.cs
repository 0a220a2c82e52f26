namespace Outcomes.Core.Clinic;

/// <summary>Conditions a clinic treats with trigger-point botulinum toxin.</summary>
public enum Condition
{
    MyofascialPainSyndrome,
    ChronicTensionTypeHeadache,
    ChronicMigraine,
    NeckShoulderPain,
    LowBackPain,
    FibromyalgiaAssociatedSpasm,
}

/// <summary>Administrative sex, with the value set of FHIR R4 AdministrativeGender.</summary>
public enum Sex
{
    Female,
    Male,
    Other,
    Unknown,
}

/// <summary>Botulinum toxin products. Their units are not interchangeable.</summary>
public enum Product
{
    OnabotulinumtoxinA,
    AbobotulinumtoxinA,
    IncobotulinumtoxinA,
}

/// <summary>How the needle was guided to the trigger point.</summary>
public enum Guidance
{
    Palpation,
    Emg,
    Ultrasound,
}

/// <summary>Side of the body of an injection site.</summary>
public enum BodySide
{
    Left,
    Right,
}
