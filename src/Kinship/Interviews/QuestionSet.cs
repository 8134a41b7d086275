using System.Collections.Immutable;
using System.Reflection;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kinship.Interviews;

/// <summary>
/// A condition on an earlier answer: true when the answer to <see cref="Question"/> (null: the question asked just
/// before) matches <see cref="Pattern"/>, a case-insensitive regular expression.
/// </summary>
internal sealed record AnswerCondition(Regex Pattern, string? Question);

/// <summary>
/// One question of a set. It is asked when its <see cref="When"/> holds (or there is none) and its <see cref="Unless"/>
/// does not; a condition on a question that was not asked is false.
/// </summary>
internal sealed record InterviewQuestion(string Id, string Text, AnswerCondition? When = null, AnswerCondition? Unless = null)
{
    /// <summary>Whether to ask this question, given the answers so far by question id and the id of the question asked last.</summary>
    public bool Applies(IReadOnlyDictionary<string, string> answers, string? last) =>
        (When is null || Holds(When, answers, last)) && (Unless is null || !Holds(Unless, answers, last));

    private static bool Holds(AnswerCondition condition, IReadOnlyDictionary<string, string> answers, string? last) =>
        (condition.Question ?? last) is { } id && answers.TryGetValue(id, out var answer) && condition.Pattern.IsMatch(answer);
}

/// <summary>A named list of questions, asked in order (docs/interviews.md describes the file).</summary>
internal sealed record QuestionSet(string Name, ImmutableArray<InterviewQuestion> Questions)
{
    public const string BuiltInName = "builtin";

    /// <summary>The built-in set: the study's follow-up interview in our own words.</summary>
    public static QuestionSet BuiltIn { get; } = LoadBuiltIn();

    private static QuestionSet LoadBuiltIn()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Kinship.Interviews.BuiltIn.builtin.yaml")
            ?? throw new InvalidOperationException("the built-in question set is not embedded");
        using var reader = new StreamReader(stream);
        return QuestionSetLoader.Parse(reader.ReadToEnd(), "builtin");
    }
}

/// <summary>A question set that cannot be used, as <c>file:line:column: what is wrong</c>.</summary>
internal sealed class QuestionSetException(string file, long line, long column, string message)
    : Exception($"{file}:{line}:{column}: {message}");

/// <summary>Reads question sets: <c>builtin</c> or a YAML file.</summary>
internal static class QuestionSetLoader
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The built-in set for <c>builtin</c>, else the YAML file at <paramref name="nameOrPath"/>.</summary>
    /// <exception cref="QuestionSetException">The file is missing or not a valid question set.</exception>
    public static QuestionSet Load(string nameOrPath)
    {
        if (nameOrPath == QuestionSet.BuiltInName)
            return QuestionSet.BuiltIn;
        if (string.IsNullOrWhiteSpace(nameOrPath))
            throw new QuestionSetException("''", 1, 1, "no question set given: name a YAML file or builtin");
        if (Directory.Exists(nameOrPath))
            throw new QuestionSetException(nameOrPath, 1, 1, "is a folder; give a YAML file, or builtin");
        if (!File.Exists(nameOrPath) && Models.InputFile.Kind(nameOrPath) is null)
            throw new QuestionSetException(nameOrPath, 1, 1, "file not found (give a YAML file, or builtin)");
        string yaml;
        try
        {
            // Only a regular file of sane size is read: a pipe or a device named here must not hang or fill memory.
            yaml = Models.InputFile.ReadAllText(nameOrPath, 1024 * 1024);
        }
        catch (Models.InputFileException e)
        {
            throw new QuestionSetException(nameOrPath, 1, 1, e.Problem);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new QuestionSetException(nameOrPath, 1, 1, "cannot be read: " + e.Message);
        }
        return Parse(yaml, nameOrPath);
    }

    /// <summary>Parses a question set; <paramref name="file"/> names it in errors, and its file name is the set's name when the YAML gives none.</summary>
    public static QuestionSet Parse(string yaml, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new QuestionSetException(
                file,
                e.Start.Line,
                e.Start.Column,
                "not valid YAML: " + (e.InnerException?.Message ?? e.Message)
            );
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw Error(file, stream.Documents.FirstOrDefault()?.RootNode, "expected a mapping with name and questions");
        string? name = null;
        YamlSequenceNode? questions = null;
        foreach (var (key, value) in root.Children)
            switch (Key(file, key))
            {
                case "name":
                    name = Scalar(file, value, "name");
                    break;
                case "questions":
                    questions = value as YamlSequenceNode ?? throw Error(file, value, "questions: expected a list of questions");
                    break;
                default:
                    throw Error(file, key, $"unknown key '{Key(file, key)}' (expected name, questions)");
            }
        if (questions is null || questions.Children.Count == 0)
            throw Error(file, root, "questions: expected at least one question");
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var list = ImmutableArray.CreateBuilder<InterviewQuestion>();
        foreach (var node in questions.Children)
        {
            var q = Question(file, node);
            if (!ids.Add(q.Id))
                throw Error(file, node, $"question id '{q.Id}' is used twice");
            foreach (var c in new[] { q.When, q.Unless })
                if (c?.Question is { } other && !ids.Contains(other))
                    throw Error(file, node, $"question '{q.Id}' depends on the answer to '{other}', which is not an earlier question");
            list.Add(q);
        }
        return new QuestionSet(string.IsNullOrWhiteSpace(name) ? Path.GetFileNameWithoutExtension(file) : name, list.ToImmutable());
    }

    private static InterviewQuestion Question(string file, YamlNode node)
    {
        if (node is not YamlMappingNode map)
            throw Error(file, node, "expected a question: a mapping with id and text");
        string? id = null,
            text = null;
        AnswerCondition? when = null,
            unless = null;
        foreach (var (key, value) in map.Children)
            switch (Key(file, key))
            {
                case "id":
                    id = Scalar(file, value, "id");
                    break;
                case "text":
                    text = Scalar(file, value, "text");
                    break;
                case "when":
                    when = Condition(file, value, "when");
                    break;
                case "unless":
                    unless = Condition(file, value, "unless");
                    break;
                default:
                    throw Error(file, key, $"unknown key '{Key(file, key)}' in a question (expected id, text, when, unless)");
            }
        if (string.IsNullOrWhiteSpace(id))
            throw Error(file, node, "a question needs an id");
        if (!Regex.IsMatch(id, "^[A-Za-z0-9_.-]+$"))
            throw Error(file, node, $"question id '{id}': use letters, digits, '-', '_' and '.' only");
        if (string.IsNullOrWhiteSpace(text))
            throw Error(file, node, $"question '{id}' needs a text");
        return new InterviewQuestion(id, text, when, unless);
    }

    private static AnswerCondition Condition(string file, YamlNode node, string what)
    {
        if (node is not YamlMappingNode map)
            throw Error(file, node, $"{what}: expected a mapping with answer_matches (and optionally question)");
        string? pattern = null,
            question = null;
        YamlNode patternNode = node;
        foreach (var (key, value) in map.Children)
            switch (Key(file, key))
            {
                case "answer_matches":
                    pattern = Scalar(file, value, "answer_matches");
                    patternNode = value;
                    break;
                case "question":
                    question = Scalar(file, value, "question");
                    break;
                default:
                    throw Error(file, key, $"unknown key '{Key(file, key)}' in {what} (expected answer_matches, question)");
            }
        if (string.IsNullOrEmpty(pattern))
            throw Error(file, node, $"{what}: answer_matches is required");
        try
        {
            return new AnswerCondition(new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexTimeout), question);
        }
        catch (ArgumentException e)
        {
            throw Error(file, patternNode, $"{what}: answer_matches is not a valid regular expression: {e.Message}");
        }
    }

    private static string Key(string file, YamlNode key) =>
        key is YamlScalarNode { Value: { } k } ? k : throw Error(file, key, "expected a plain key");

    private static string Scalar(string file, YamlNode node, string what) =>
        node is YamlScalarNode { Value: { } v } ? v : throw Error(file, node, $"{what}: expected a single value");

    private static QuestionSetException Error(string file, YamlNode? node, string message) =>
        new(file, node?.Start.Line ?? 1, node?.Start.Column ?? 1, message);
}
