using Kinship.Interviews;

namespace Kinship.Tests.Interviews;

public sealed class QuestionSetTests
{
    [Fact]
    public void The_built_in_set_asks_the_studys_follow_up_questions()
    {
        var set = QuestionSet.BuiltIn;
        Assert.Equal("builtin", set.Name);
        Assert.Equal(
            ["did-task", "why-file", "shut-down", "undo", "why-not-undo", "company-delete", "delete-you"],
            set.Questions.Select(q => q.Id)
        );
        Assert.Same(set, QuestionSetLoader.Load("builtin"));
    }

    [Fact]
    public void When_and_unless_branch_on_the_previous_answer_or_a_named_one()
    {
        var set = QuestionSetLoader.Parse(
            """
            name: branching
            questions:
              - id: a
                text: Did you move it?
              - id: b
                text: Why?
                when: { answer_matches: "\\byes\\b" }
              - id: c
                text: Are you sure?
                unless: { question: a, answer_matches: "^yes" }
            """,
            "sets/branching.yaml"
        );
        var (b, c) = (set.Questions[1], set.Questions[2]);
        var yes = new Dictionary<string, string> { ["a"] = "Yes, I did." };
        var no = new Dictionary<string, string> { ["a"] = "No." };
        Assert.True(b.Applies(yes, "a"));
        Assert.False(b.Applies(no, "a"));
        Assert.False(c.Applies(yes, "b"));
        Assert.True(c.Applies(no, "a"));
        // A condition on a question that was not asked is false.
        Assert.False(b.Applies(new Dictionary<string, string>(), null));
        Assert.True(c.Applies(new Dictionary<string, string>(), null));
    }

    [Fact]
    public void A_set_without_a_name_is_named_after_its_file()
    {
        var set = QuestionSetLoader.Parse("questions:\n  - id: x\n    text: Hello?\n", "dir/my-set.yaml");
        Assert.Equal("my-set", set.Name);
    }

    [Theory]
    [InlineData("questions: [", "s.yaml:2:1: not valid YAML")]
    [InlineData("- a\n- b\n", "s.yaml:1:1: expected a mapping with name and questions")]
    [InlineData("name: x\n", "questions: expected at least one question")]
    [InlineData("name: x\nquestions:\n  - id: a\n    text: A?\n  - id: a\n    text: B?\n", "s.yaml:5:5: question id 'a' is used twice")]
    [InlineData("questions:\n  - id: a\n    txt: A?\n", "s.yaml:3:5: unknown key 'txt' in a question")]
    [InlineData("questions:\n  - id: a\n", "s.yaml:2:5: question 'a' needs a text")]
    [InlineData("questions:\n  - text: A?\n", "s.yaml:2:5: a question needs an id")]
    [InlineData(
        "questions:\n  - id: a\n    text: A?\n    when: { answer_matches: \"(\" }\n",
        "s.yaml:4:29: when: answer_matches is not a valid regular expression"
    )]
    [InlineData(
        "questions:\n  - id: a\n    text: A?\n    when: { question: b, answer_matches: x }\n",
        "s.yaml:2:5: question 'a' depends on the answer to 'b', which is not an earlier question"
    )]
    [InlineData("questions:\n  - id: a b\n    text: A?\n", "s.yaml:2:5: question id 'a b'")]
    public void Bad_input_is_reported_with_file_and_line(string yaml, string expected)
    {
        var e = Assert.Throws<QuestionSetException>(() => QuestionSetLoader.Parse(yaml, "s.yaml"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_or_a_device_is_refused_without_reading_it()
    {
        var folder = Assert.Throws<QuestionSetException>(() => QuestionSetLoader.Load(Path.GetTempPath()));
        Assert.Contains("is a folder", folder.Message, StringComparison.Ordinal);
        if (File.Exists("/dev/zero") || OperatingSystem.IsLinux())
        {
            var device = Assert.Throws<QuestionSetException>(() => QuestionSetLoader.Load("/dev/zero"));
            Assert.StartsWith("/dev/zero:1:1: is a", device.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var e = Assert.Throws<QuestionSetException>(() => QuestionSetLoader.Load("no/such/set.yaml"));
        Assert.StartsWith("no/such/set.yaml:1:1: file not found", e.Message, StringComparison.Ordinal);
    }
}
