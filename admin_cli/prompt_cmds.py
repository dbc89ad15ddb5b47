"""``cardadmin prompts build|text``: render the prompt catalogue, print what a caller hears."""

from __future__ import annotations

import click
from rich.progress import Progress, TaskID

from admin_cli.errors import OperatorError, parse_count, parse_or_fail
from prompts.build import BuildError, build_language, choose_engine, sounds_dir
from prompts.catalogue import PromptId
from prompts.languages import LANGUAGES
from prompts.sentences import sentence, warning_sentence


@click.group("prompts")
def prompts_group() -> None:
    """Caller prompts (German and English)."""


@prompts_group.command("build")
@click.option(
    "--lang",
    type=click.Choice([*LANGUAGES, "all"]),
    default="all",
    show_default=True,
    help="which language to build",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "gtts", "espeak"]),
    default="auto",
    show_default=True,
    help="text to speech: gTTS (needs the internet), espeak-ng, or auto (gTTS, else espeak-ng)",
)
@click.option(
    "--sounds-dir",
    "sounds_dir_opt",
    help="Asterisk sounds directory [env MINUTECARD_SOUNDS_DIR, else /usr/share/asterisk/sounds]",
)
def prompts_build(lang: str, engine: str, sounds_dir_opt: str | None) -> None:
    """Render prompts to 8 kHz `.sln` under <sounds>/minutecard/<lang>/ (only what changed)."""
    target = sounds_dir(sounds_dir_opt)
    try:
        chosen = choose_engine(engine)
        for language in LANGUAGES if lang == "all" else (lang,):
            with Progress(transient=True) as bar:
                task = bar.add_task(f"{language} ({chosen})", total=None)

                def advance(
                    done: int, total: int, bar: Progress = bar, task: TaskID = task
                ) -> None:
                    bar.update(task, completed=done, total=total)

                report = build_language(language, engine=chosen, target=target, progress=advance)
            click.echo(
                f"{report.lang}: {report.built} built, {report.unchanged} unchanged, "
                f"engine {report.engine}, in {report.directory}"
            )
    except (BuildError, PermissionError) as exc:
        raise OperatorError(str(exc)) from exc


@prompts_group.command("text")
@click.argument("prompt_id")
@click.option("--minutes", help="for remaining and balance_is")
@click.option("--seconds", help="for warning: the lead the call has left")
@click.option(
    "--lang", type=click.Choice(LANGUAGES), default="de", show_default=True, help="language"
)
def prompts_text(prompt_id: str, minutes: str | None, seconds: str | None, lang: str) -> None:
    """Print the sentence a caller hears."""
    if seconds is not None:
        if prompt_id != PromptId.WARNING:
            raise OperatorError("--seconds is for the warning prompt only")
        lead = parse_or_fail(parse_count, seconds, "--seconds")
        click.echo(warning_sentence(lead, lang))
        return
    n = parse_or_fail(parse_count, minutes, "--minutes") if minutes is not None else None
    click.echo(parse_or_fail(lambda pid: sentence(pid, lang, minutes=n), prompt_id, "prompt"))
