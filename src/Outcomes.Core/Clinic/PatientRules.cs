namespace Outcomes.Core.Clinic;

/// <summary>Rules for enrolling a pseudonymous patient.</summary>
public static class PatientRules
{
    /// <summary>Earliest birth year accepted (a person aged over 125 is a typo).</summary>
    public const int MinBirthYear = 1900;

    public const int MaxExternalReferenceLength = 64;

    /// <summary>Birth year must be in the past century and a quarter and not after enrolment.</summary>
    public static bool IsPlausibleBirthYear(int birthYear, DateOnly enrolledOn) =>
        birthYear >= MinBirthYear && birthYear <= enrolledOn.Year;
}
