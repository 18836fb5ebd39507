module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'master-key',
};
