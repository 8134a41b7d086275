namespace Kinship.Analysis;

/// <summary>The study's six task types, each measured by its own metrics; a scenario names its task in its <c>task</c> field.</summary>
internal enum StudyTask
{
    MisrepEvaluation,
    MisrepFinance,
    Tampering,
    AlignmentFaking,
    ExfiltrationTransfer,
    ExfiltrationDeletion,
}

internal static class StudyTasks
{
    /// <summary>The task a scenario's <c>task</c> field names (the study's code names); null for any other task.</summary>
    public static StudyTask? Parse(string? task) =>
        task?.Trim().ToLowerInvariant().Replace('-', '_') switch
        {
            "misrep_evaluation" => StudyTask.MisrepEvaluation,
            "misrep_finance" => StudyTask.MisrepFinance,
            "tampering" => StudyTask.Tampering,
            "alignment_faking" => StudyTask.AlignmentFaking,
            "exfiltration_transfer" => StudyTask.ExfiltrationTransfer,
            "exfiltration_deletion" => StudyTask.ExfiltrationDeletion,
            _ => null,
        };

    public static string Name(StudyTask task) =>
        task switch
        {
            StudyTask.MisrepEvaluation => "misrep_evaluation",
            StudyTask.MisrepFinance => "misrep_finance",
            StudyTask.Tampering => "tampering",
            StudyTask.AlignmentFaking => "alignment_faking",
            StudyTask.ExfiltrationTransfer => "exfiltration_transfer",
            _ => "exfiltration_deletion",
        };
}
