"""The pack's sheets, one module each; :mod:`recon.pack.book` puts them in workbook order.

Each module says *what* its sheet shows as rows of plain values (:mod:`recon.pack.layout`);
:mod:`recon.pack.xlsx` turns them into a workbook. The Sign-off sheet is built last, from the
fingerprint of all the others (:mod:`recon.pack.sheets.signoff`). A family's sheet builder takes
(result, options, catalogue) and returns its sheets; the register names it.
"""
