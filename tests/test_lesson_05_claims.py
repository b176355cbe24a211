"""Lesson 05's fixed numbers, kept out of the lesson: the split, the batches, the network size.

The lesson states them in its prose (1536 training images so that every batch size divides
them, 2410 parameters, 16 batches of 100 with 36 left over); these tests pin them, so a change
of the data split or of the network preset shows up here rather than as a silent change of the
lesson's story.
"""

import math

from course_lib import data
from course_lib.networks import mlp


def lesson_split():
    digits = data.load_digits()
    return data.train_test_split(digits.X, digits.y, test_fraction=0.145, rng=0)


def test_the_split_keeps_1536_training_images_and_every_batch_size_divides_them():
    X_train, X_test, y_train, _ = lesson_split()
    assert len(X_train) == 1536 == 3 * 2**9 and len(X_test) == 261
    for batch_size in (24, 96, 384, 1536, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768):
        assert len(X_train) % batch_size == 0, batch_size


def test_batches_of_100_make_16_steps_with_36_left_over():
    X_train, _, y_train, _ = lesson_split()
    sizes = [len(xb) for xb, _ in data.minibatches(X_train, y_train, 100, rng=0)]
    assert len(sizes) == 16 == math.ceil(1536 / 100) and sizes[-1] == 36
    dropped = [len(xb) for xb, _ in data.minibatches(X_train, y_train, 100, rng=0, drop_last=True)]
    assert len(dropped) == 15 and set(dropped) == {100}


def test_the_lesson_network_has_2410_parameters():
    model = mlp("l05_mini_batch", rng=0)
    assert sum(w.size for w in model.params.values()) == 64 * 32 + 32 + 32 * 10 + 10 == 2410
