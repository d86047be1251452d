"""What a clerk does at the counter, as plain operations the window runs off the UI thread."""
