"""A question deleted while answers to it are being posted from threads: real concurrency on the store."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from {{ cookiecutter.package_name }}.storage import QuestionNotFoundError, QuestionRepository

POSTERS = 3
# Each poster stops after this many answers, if the question is still there by then.
MOST_ANSWERS_EACH = 40
SECONDS_TO_FIRST_ANSWER = 10


def delete_while_answering(repository: QuestionRepository, question_id: str) -> int:
    """Post answers from POSTERS threads until the question is gone, deleting it once the first is in.

    Returns how many answers were posted (each one before the delete began, or
    refused as to a missing question: every other outcome fails the call).
    """
    answered = threading.Event()

    def post(poster: int) -> int:
        posted = 0
        for n in range(MOST_ANSWERS_EACH):
            try:
                repository.add_answer(question_id, f"answer {poster}.{n}")
            except QuestionNotFoundError:
                break
            posted += 1
            answered.set()
        return posted

    with ThreadPoolExecutor(max_workers=POSTERS) as pool:
        posting = [pool.submit(post, poster) for poster in range(POSTERS)]
        assert answered.wait(SECONDS_TO_FIRST_ANSWER), "no answer was posted"
        repository.delete_question(question_id)
        return sum(future.result() for future in posting)
