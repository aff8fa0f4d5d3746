// Placeholder: the fuzz harness is being written (issue 5).
print("dnic-fuzz: not built with fuzzing")
