DROP TABLE added_audio_outputs;
DROP TABLE added_audio;
