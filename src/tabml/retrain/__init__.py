"""Continuous training: harvest labelled production rows, train a challenger on them, score
it against the champion on the newest rows, and promote it only when it wins."""
