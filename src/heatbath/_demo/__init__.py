"""The sections of ``heatbath demo``: each a module with ``run(out_dir, quick) -> list[str]``.

A section returns the lines it prints; it writes its plots into ``out_dir``
where matplotlib is installed (and says so where it is not). A new section is
a module here and one entry in ``SECTIONS``.
"""

from heatbath._demo import (boltzmann, classify, continuous, digits, distributed, ising, markov, nqs,
                            rbm, speed, thermo)

SECTIONS = [boltzmann, markov, ising, rbm, digits, classify, continuous, nqs, thermo, distributed,
            speed]

__all__ = ["SECTIONS"]
